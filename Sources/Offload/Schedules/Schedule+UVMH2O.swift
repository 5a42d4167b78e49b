/// The artifact's UVM + H2O: after a full prefill each layer keeps
/// ratio x prompt heavy hitters (plus one slot for the new token) in unified
/// memory; decode attends over that cache and updates the accumulated scores.
public struct UVMH2OSchedule: Schedule {
    public let name = "uvm-h2o"
    public let summary = "unified memory holding an H2O cache of 0.2 x prompt tokens per layer"

    public init() {}

    public func run(_ run: inout ScheduleRun) throws {
        let w = run.workload
        let heavy = max(1, Int(run.options.uvmH2ORatio * Double(w.promptLength)))
        run.readsLabel = "scheme-defined: H2O cache of \(heavy + 1) tokens per layer"
        var memory = UVMMemory(capacity: run.hardware.deviceCapacityBytes, eviction: run.options.uvmEviction)
        UVMLayout.notes(&run, memory: memory)
        let cacheBytes = run.kvBytes(tokens: heavy + 1)
        let weights = run.model.totalWeightBytes
        let p = Double(w.promptLength)
        // The full prompt K and V exist until pruning: part of the workspace.
        let workspace = UVMLayout.prefillWorkspace(run) + run.kvBytes(tokens: w.promptLength)
        let prune = DeviceWork(flops: 0, bytes: 2 * Double(run.batch * run.model.heads) * p * p
                               + 2 * run.kvBytes(tokens: heavy), kernels: 8)

        var start = run.join([])
        var last = start
        for layer in 0..<run.layers {
            let live = weights + Double(layer + 1) * cacheBytes + workspace
            let cold = Double(layer) * (run.model.layerWeightBytes + cacheBytes)
            let paging = memory.prefillLayer(live: live, cold: cold)
            last = UVMLayout.layer(&run, step: 0, layer: layer, after: last, evict: paging.evict,
                                   faultIn: paging.faultIn, hostBefore: UVMLayout.maskBuild(run),
                                   attention: run.prefillAttentionWork() + prune
                                       + (run.options.uvmArtifactPrefill ? UVMLayout.eagerMaskWork(run) : .none),
                                   mlp: run.prefillMLPWork())
        }
        start = run.finishStep(0, after: [last])
        guard w.decodeSteps > 0 else { return }
        let scoreBytes = Double(run.batch * run.model.heads * (heavy + 1)) * 4
        // cat of a zero row, add, argmin, two scatters: ~5 fp32 passes.
        let bookkeeping = DeviceWork(flops: 0, bytes: 5 * scoreBytes, kernels: 8)
        let perLayer = run.model.layerWeightBytes + cacheBytes
        let touched = Double(run.layers) * perLayer + run.model.embeddingWeightBytes
        for step in 1...w.decodeSteps {
            let paging = memory.decodeStep(touched: touched, workspace: 3 * scoreBytes, first: step == 1,
                                           touchedShare: 1)
            last = start
            for layer in 0..<run.layers {
                let fraction = perLayer / touched
                last = UVMLayout.layer(&run, step: step, layer: layer, after: last,
                                       evict: paging.evict * fraction, faultIn: paging.faultIn * fraction,
                                       attention: run.decodeAttentionWork(keys: heavy + 1) + bookkeeping,
                                       mlp: run.decodeMLPWork())
            }
            start = run.finishStep(step, after: [last])
        }
    }
}
