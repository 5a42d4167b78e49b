/// The artifact's UVM baseline: the plain model with every allocation in
/// unified memory; the KV cache (preallocated per layer) pages in and out on
/// demand when weights and cache do not fit on the device together.
public struct UVMSchedule: Schedule {
    public let name = "uvm"
    public let summary = "everything in CUDA unified memory; pages that do not fit migrate on fault"

    public init() {}

    public func run(_ run: inout ScheduleRun) throws {
        run.readsLabel = "scheme-defined: every cached token of every layer"
        var memory = UVMMemory(capacity: run.hardware.deviceCapacityBytes, eviction: run.options.uvmEviction)
        UVMLayout.notes(&run, memory: memory)
        let w = run.workload
        let prealloc = run.options.uvmPreallocTokens.map { max($0, w.promptLength + w.generateLength) }
            ?? (w.promptLength + w.generateLength)
        run.note("UVM: KV preallocated for \(prealloc) tokens per sequence and layer")
        let footprint = run.kvBytes(tokens: prealloc)
        let weights = run.model.totalWeightBytes
        let workspace = UVMLayout.prefillWorkspace(run)

        var start = run.join([])
        var last = start
        for layer in 0..<run.layers {
            let live = weights + Double(layer + 1) * footprint + workspace
            let cold = Double(layer) * (run.model.layerWeightBytes + footprint)
            let paging = memory.prefillLayer(live: live, cold: cold)
            last = UVMLayout.layer(&run, step: 0, layer: layer, after: last, evict: paging.evict,
                                   faultIn: paging.faultIn, hostBefore: UVMLayout.maskBuild(run),
                                   attention: run.prefillAttentionWork() + (run.options.uvmArtifactPrefill ? UVMLayout.eagerMaskWork(run) : .none),
                                   mlp: run.prefillMLPWork())
        }
        start = run.finishStep(0, after: [last])
        guard w.decodeSteps > 0 else { return }
        for step in 1...w.decodeSteps {
            let cached = w.cachedTokens(atDecodeStep: step)
            let kvTouched = run.kvBytes(tokens: cached + 1)
            let perLayer = run.model.layerWeightBytes + kvTouched
            let touched = Double(run.layers) * perLayer + run.model.embeddingWeightBytes
            let scores = Double(run.batch * run.model.heads * (cached + 1)) * 10
            let share = touched / (weights + Double(run.layers) * footprint)
            let paging = memory.decodeStep(touched: touched, workspace: scores, first: step == 1, touchedShare: share)
            last = start
            for layer in 0..<run.layers {
                let fraction = perLayer / touched
                last = UVMLayout.layer(&run, step: step, layer: layer, after: last,
                                       evict: paging.evict * fraction, faultIn: paging.faultIn * fraction,
                                       attention: run.decodeAttentionWork(keys: cached + 1), mlp: run.decodeMLPWork())
            }
            start = run.finishStep(step, after: [last])
        }
    }
}
