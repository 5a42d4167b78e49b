/// FlexGen with its 4-bit group-wise KV compression (asymmetric, groups of
/// 64 along head_dim): each group stores its packed values plus an fp16 min
/// and an fp16 scale, so (bits/8 + 4/group) bytes per element cross the link
/// instead of 2; the device dequantises the whole cache every step.
public struct FlexGenINT4Schedule: Schedule {
    public let name = "flexgen-int4"
    public let summary = "FlexGen moving 4-bit group-quantised KV (a quarter of the bytes plus scales)"

    public init() {}

    /// Compressed bytes per full-precision byte.
    static func compressedFraction(_ run: ScheduleRun) -> Double {
        (Double(run.options.quantBits) / 8 + 4 / Double(run.options.quantGroupSize)) / run.model.kvBytes
    }

    /// FlexGen's decompress: unpack (shift, mask, two strided writes), then
    /// div_ and add_ in place: about 5 full-precision passes and 3 passes over
    /// the packed bytes, 7 kernels per tensor.
    static func dequantiseWork(fullBytes: Double, packedBytes: Double) -> DeviceWork {
        DeviceWork(flops: 0, bytes: 5 * fullBytes + 3 * packedBytes, kernels: 14)
    }

    /// compress: min, max, subtract, scale, clamp, round, cast, pack: about
    /// 8 full-precision passes.
    static func quantiseWork(fullBytes: Double) -> DeviceWork {
        DeviceWork(flops: 0, bytes: 8 * fullBytes, kernels: 20)
    }

    public func run(_ run: inout ScheduleRun) throws {
        run.readsLabel = "scheme-defined: every cached token of every layer, compressed"
        FlexGenPlans.note(&run)
        let q = Self.compressedFraction(run)
        run.note(String(format: "INT%d group %d: %.4f of the fp16 bytes cross the link (data plus fp16 min and scale per group)",
                        run.options.quantBits, run.options.quantGroupSize, q))
        let overlap = run.options.overlapIO
        let prompt = run.workload.promptLength
        let prefill = FlexGenPlans.layers(run, attention: { layer in
            let full = run.kvBytes(tokens: prompt)
            return FlexGenPlans.attention(run, layer: layer,
                                          compute: run.prefillAttentionWork() + Self.quantiseWork(fullBytes: full),
                                          storeBytes: full * q, storeTransfers: 4, relay: true)
        }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.prefillMLPWork()) })
        var start = FlexGenLoop.step(&run, step: 0, start: run.join([]), plans: prefill, overlap: overlap)
        guard run.workload.decodeSteps > 0 else { return }
        for step in 1...run.workload.decodeSteps {
            let cached = run.workload.cachedTokens(atDecodeStep: step)
            let plans = FlexGenPlans.layers(run, attention: { layer in
                let full = run.kvBytes(tokens: cached)
                let one = run.kvBytes(tokens: 1)
                let work = Self.dequantiseWork(fullBytes: full, packedBytes: full * q)
                    + run.decodeAttentionWork(keys: cached + 1) + Self.quantiseWork(fullBytes: one)
                return FlexGenPlans.attention(run, layer: layer, compute: work,
                                              kvBytes: full * q, kvTransfers: 4,
                                              storeBytes: one * q, storeTransfers: 4, relay: false)
            }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.decodeMLPWork()) })
            start = FlexGenLoop.step(&run, step: step, start: start, plans: plans, overlap: overlap)
        }
    }
}
