/// FlexGen with an H2O budget (the artifact's `--hh-ratio 0.1 --hh-all`):
/// after prefill each layer keeps heavy = ratio x prompt heavy hitters and a
/// cache of multiple x heavy tokens; every step that cache and its fp32
/// accumulated scores cross the link, and the device updates the scores and
/// evicts one token per head.
public struct FlexGenH2OSchedule: Schedule {
    public let name = "flexgen-h2o"
    public let summary = "FlexGen moving a fixed H2O cache (2 x 0.1 x prompt tokens) plus score bookkeeping"

    public init() {}

    static func cacheTokens(_ run: ScheduleRun) -> Int {
        let heavy = Int(run.options.h2oHeavyRatio * Double(run.workload.promptLength))
        return max(1, min(Int(run.options.h2oCacheMultiple * Double(heavy)), run.workload.promptLength))
    }

    /// fp32 accumulated attention per cached token, batch row and head.
    static func scoreBytes(_ run: ScheduleRun, tokens: Int) -> Double {
        Double(tokens * run.batch * run.model.heads) * 4
    }

    public func run(_ run: inout ScheduleRun) throws {
        let cache = Self.cacheTokens(run)
        // A recorded trace (a real budgeted run) says how many rows each layer moved.
        var recorded = false
        if case .recorded = run.reads { recorded = true }
        run.readsLabel = recorded ? run.reads.label : "scheme-defined: H2O cache of \(cache) tokens per layer"
        FlexGenPlans.note(&run)
        run.note("H2O budget applies to every layer (the speedup artifact's h2o path has no dense-layer exemption)")
        let overlap = run.options.overlapIO
        let prompt = run.workload.promptLength
        let scores = Self.scoreBytes(run, tokens: cache)
        // Heavy-hitter selection after prefill: column sums of the score
        // matrix (fp16) and a top-k.
        let p = Double(prompt)
        let prune = DeviceWork(flops: 0, bytes: Double(run.batch * run.model.heads) * p * p * 2, kernels: 6)
        let prefill = FlexGenPlans.layers(run, attention: { layer in
            FlexGenPlans.attention(run, layer: layer, compute: run.prefillAttentionWork() + prune,
                                   storeBytes: run.kvBytes(tokens: cache) + scores, storeTransfers: 3, relay: true)
        }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.prefillMLPWork()) })
        var start = FlexGenLoop.step(&run, step: 0, start: run.join([]), plans: prefill, overlap: overlap)
        guard run.workload.decodeSteps > 0 else { return }
        // Score update, argmin and scatter over the cache: about 4 fp32 passes.
        for step in 1...run.workload.decodeSteps {
            let cached = run.workload.cachedTokens(atDecodeStep: step)
            let plans = FlexGenPlans.layers(run, attention: { layer in
                let tokens = recorded ? run.reads.tokens(step: step, layer: layer, cached: cached) : cache
                let scores = Self.scoreBytes(run, tokens: tokens)
                let bookkeeping = DeviceWork(flops: 0, bytes: 4 * Self.scoreBytes(run, tokens: tokens + 1), kernels: 8)
                return FlexGenPlans.attention(run, layer: layer,
                                              compute: run.decodeAttentionWork(keys: tokens + 1) + bookkeeping,
                                              kvBytes: run.kvBytes(tokens: tokens) + scores, kvTransfers: 3,
                                              storeBytes: run.kvBytes(tokens: 1) + scores, storeTransfers: 3, relay: false)
            }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.decodeMLPWork()) })
            start = FlexGenLoop.step(&run, step: step, start: start, plans: plans, overlap: overlap)
        }
    }
}
