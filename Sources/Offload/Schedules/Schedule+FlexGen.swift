/// FlexGen with weights on the device and the KV on the host: every decode
/// step moves each layer's whole cache over the link and writes the new
/// token's K and V back.
public struct FlexGenSchedule: Schedule {
    public let name = "flexgen"
    public let summary = "whole KV of each layer loaded every step, overlapped with the previous sublayer"

    public init() {}

    public func run(_ run: inout ScheduleRun) throws {
        run.readsLabel = "scheme-defined: every cached token of every layer"
        FlexGenPlans.note(&run)
        let overlap = run.options.overlapIO
        let prompt = run.workload.promptLength
        let prefill = FlexGenPlans.layers(run, attention: { layer in
            FlexGenPlans.attention(run, layer: layer, compute: run.prefillAttentionWork(),
                                   storeBytes: run.kvBytes(tokens: prompt), storeTransfers: 2, relay: true)
        }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.prefillMLPWork()) })
        var start = FlexGenLoop.step(&run, step: 0, start: run.join([]), plans: prefill, overlap: overlap)
        guard run.workload.decodeSteps > 0 else { return }
        for step in 1...run.workload.decodeSteps {
            let cached = run.workload.cachedTokens(atDecodeStep: step)
            let plans = FlexGenPlans.layers(run, attention: { layer in
                FlexGenPlans.attention(run, layer: layer, compute: run.decodeAttentionWork(keys: cached + 1),
                                       kvBytes: run.kvBytes(tokens: cached), kvTransfers: 2,
                                       storeBytes: run.kvBytes(tokens: 1), storeTransfers: 2, relay: false)
            }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.decodeMLPWork()) })
            start = FlexGenLoop.step(&run, step: step, start: start, plans: plans, overlap: overlap)
        }
    }
}
