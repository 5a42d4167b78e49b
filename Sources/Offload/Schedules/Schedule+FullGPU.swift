/// Everything resident on the device: no transfers, the reference floor.
public struct FullGPUSchedule: Schedule {
    public let name = "full-gpu"
    public let summary = "weights and the whole KV cache on the device; compute only"

    public init() {}

    public func run(_ run: inout ScheduleRun) throws {
        run.readsLabel = "scheme-defined: every cached token of every layer"
        let needed = run.model.totalWeightBytes
            + Double(run.layers) * run.kvBytes(tokens: run.workload.promptLength + run.workload.generateLength)
        if needed > run.hardware.deviceCapacityBytes {
            run.note(String(format: "does not fit: needs %.1f GB, device offers %.1f GB; reference only",
                            needed / 1e9, run.hardware.deviceCapacityBytes / 1e9))
        }
        var start = run.join([])
        var last = start
        for layer in 0..<run.layers {
            let a = run.compute("attention", run.prefillAttentionWork(), after: [last], step: 0, layer: layer)
            last = run.compute("mlp", run.prefillMLPWork(), after: [a], step: 0, layer: layer)
        }
        start = run.finishStep(0, after: [last])
        guard run.workload.decodeSteps > 0 else { return }
        for step in 1...run.workload.decodeSteps {
            let cached = run.workload.cachedTokens(atDecodeStep: step)
            last = start
            for layer in 0..<run.layers {
                let a = run.compute("attention", run.decodeAttentionWork(keys: cached + 1), after: [last],
                                    step: step, layer: layer)
                last = run.compute("mlp", run.decodeMLPWork(), after: [a], step: step, layer: layer)
            }
            start = run.finishStep(step, after: [last])
        }
    }
}
