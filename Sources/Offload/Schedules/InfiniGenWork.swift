/// Costs specific to InfiniGen: speculation on the device, the selected rows
/// on the host, and the prefill-time preparation of partial weights.
enum InfiniGenWork {
    /// Partial columns per head: int(head_dim x ratio), at least 1.
    static func partialDim(_ run: ScheduleRun) -> Int {
        max(1, Int(Double(run.model.headDim) * run.options.partialWeightRatio))
    }

    /// The first layer whose KV is speculated: layers before it read the
    /// whole cache, and layer 0 cannot be speculated (no earlier layer).
    static func firstSparseLayer(_ run: ScheduleRun) -> Int { max(run.options.denseLeadingLayers, 1) }

    static func isSparse(_ run: ScheduleRun, layer: Int) -> Bool {
        layer >= firstSparseLayer(run) && layer < run.layers
    }

    /// Speculation for the next layer from this layer's attention input:
    /// partial query (hidden x heads*d'), partial scores against the partial
    /// key cache of `cached` tokens, threshold count (max, compare, sum) and
    /// a top-k: about 6 passes of 2 bytes over the scores. Rotary models must
    /// compute and rotate the full query of the next layer first.
    static func speculation(_ run: ScheduleRun, cached: Int) -> DeviceWork {
        let m = run.model, b = Double(run.batch), d = Double(partialDim(run)), n = Double(cached)
        let partialQueryCols = Double(m.heads) * d
        var work = DeviceWork(flops: 2 * b * Double(m.hidden) * partialQueryCols,
                              bytes: Double(m.hidden + 1) * partialQueryCols * m.kvBytes, kernels: 3)
        if m.positional == .rotary {
            work = work + DeviceWork(flops: 2 * b * Double(m.hidden * m.queryDim),
                                     bytes: Double(m.hidden * m.queryDim) * m.kvBytes + 4 * b * Double(m.queryDim) * m.kvBytes,
                                     kernels: 4)
        }
        let scores = b * Double(m.heads) * n
        work = work + DeviceWork(flops: 2 * scores * d,
                                 bytes: b * Double(m.kvHeads) * n * d * m.kvBytes + 12 * scores, kernels: 9)
        return work
    }

    /// The artifact appends the new partial key with torch.cat, copying the
    /// whole partial key cache of the next layer every step.
    static func partialCacheCat(_ run: ScheduleRun, cached: Int) -> DeviceWork {
        let m = run.model
        let bytes = Double(run.batch * m.kvHeads * cached * partialDim(run)) * m.kvBytes
        return DeviceWork(flops: 0, bytes: 2 * bytes, kernels: 1)
    }

    /// Prefill: column magnitudes of the skewed query (partial index), the
    /// partial key cache and the partial weight, for every sparse layer.
    static func prefillPreparation(_ run: ScheduleRun) -> DeviceWork {
        let m = run.model, rows = Double(run.batch * run.workload.promptLength)
        let readQ = rows * Double(m.queryDim) * m.kvBytes
        let partialK = rows * Double(m.kvDim) * m.kvBytes + rows * Double(m.kvHeads * partialDim(run)) * m.kvBytes
        return DeviceWork(flops: 0, bytes: 2 * readQ + partialK, kernels: 8)
    }

    /// Tokens read by `layer` at decode `step`: the whole cache for dense
    /// layers, the token-read source for the others.
    static func tokens(_ run: ScheduleRun, step: Int, layer: Int, cached: Int) -> Int {
        isSparse(run, layer: layer) ? run.reads.tokens(step: step, layer: layer, cached: cached) : cached
    }

    /// Prefill as FlexGen does it (full prompt KV written back), plus the
    /// partial-weight preparation.
    static func prefillPlans(_ run: ScheduleRun) -> [SublayerPlan] {
        let prompt = run.workload.promptLength
        return FlexGenPlans.layers(run, attention: { layer in
            let extra = isSparse(run, layer: layer) ? prefillPreparation(run) : .none
            return FlexGenPlans.attention(run, layer: layer, compute: run.prefillAttentionWork() + extra,
                                          storeBytes: run.kvBytes(tokens: prompt), storeTransfers: 2, relay: true)
        }, mlp: { FlexGenPlans.mlp(run, layer: $0, compute: run.prefillMLPWork()) })
    }

    static func notes(_ run: inout ScheduleRun) {
        run.readsLabel = run.reads.label
        run.note("InfiniGen: layers below \(firstSparseLayer(run)) read the whole cache; d' = \(partialDim(run)) of \(run.model.headDim) columns")
        if run.model.positional == .rotary {
            run.note("rotary model: speculation computes and rotates the next layer's full query before taking d' columns")
        }
        run.note("sparse layers move k rows per KV head for every sequence (the artifact's uniform k = int(mean count))")
    }
}
