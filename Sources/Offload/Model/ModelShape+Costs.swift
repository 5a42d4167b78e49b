/// FLOP and byte counts of one layer. Conventions: a multiply-add is 2 FLOPs;
/// biases, norms and activations are counted only as memory traffic of their
/// inputs and outputs; attention scores are materialised (eager PyTorch, as in
/// the artifact), so prefill attention costs the full n x n score matrix.
extension ModelShape {
    public var queryDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }
    var bytes: Double { Double(bytesPerElement) }
    /// Bytes per layer-weight, head-weight and KV/activation element.
    var weightBytes: Double { weightBytesPerElement ?? bytes }
    var headBytes: Double { headBytesPerElement ?? weightBytes }
    var kvBytes: Double { kvBytesPerElement ?? bytes }

    /// Elements of W_q, W_k, W_v and W_o.
    public var attentionWeightElements: Int { hidden * queryDim + 2 * hidden * kvDim + queryDim * hidden }
    public var mlpWeightElements: Int { mlp.matrices * hidden * ffn }
    public var layerWeightBytes: Double { Double(attentionWeightElements + mlpWeightElements) * weightBytes }
    /// Input embedding plus output head (one matrix when tied).
    public var embeddingWeightBytes: Double { (tiedEmbeddings ? 1 : 2) * Double(vocab * hidden) * headBytes }
    public var totalWeightBytes: Double { Double(layers) * layerWeightBytes + embeddingWeightBytes }

    /// K and V of one token in one layer: 2 x kv_heads x head_dim x bytes.
    public var kvBytesPerTokenPerLayer: Double { 2 * Double(kvDim) * kvBytes }

    /// Q, K, V and output projections for `rows` token rows (batch x tokens).
    public func projectionWork(rows: Int) -> DeviceWork {
        let r = Double(rows)
        let activations = r * Double(hidden + queryDim + 2 * kvDim + queryDim + hidden) * kvBytes
        let weights = Double(attentionWeightElements) * weightBytes
        return DeviceWork(flops: 2 * r * Double(attentionWeightElements), bytes: weights + activations,
                          weightBytes: weights, kernels: 8)
    }

    /// Scores and weighted sum of `queries` query rows over `keys` cached
    /// tokens per sequence. Score passes: QK^T write, mask read+write, softmax
    /// read+write, PV read: 6 passes of 2 bytes.
    public func attentionWork(batch: Int, queries: Int, keys: Int) -> DeviceWork {
        let b = Double(batch), q = Double(queries), k = Double(keys)
        let scores = b * Double(heads) * q * k
        let kv = b * k * kvBytesPerTokenPerLayer
        let qAndOut = 2 * b * q * Double(queryDim) * kvBytes
        return DeviceWork(flops: 4 * scores * Double(headDim), bytes: kv + qAndOut + 12 * scores, kernels: 6)
    }

    public func mlpWork(rows: Int) -> DeviceWork {
        let r = Double(rows)
        let activations = r * Double(2 * hidden + (mlp.matrices - 1) * ffn * 2) * kvBytes
        let weights = Double(mlpWeightElements) * weightBytes
        return DeviceWork(flops: 2 * r * Double(mlpWeightElements), bytes: weights + activations,
                          weightBytes: weights, kernels: mlp.matrices + 3)
    }

    /// Final norm and vocabulary projection for `rows` rows.
    public func lmHeadWork(rows: Int) -> DeviceWork {
        let r = Double(rows)
        let weights = Double(hidden * vocab) * headBytes
        return DeviceWork(flops: 2 * r * Double(hidden * vocab), bytes: weights + r * Double(hidden + vocab) * kvBytes,
                          weightBytes: weights, kernels: 3)
    }

    /// One layer of prefill over `prompt` tokens for `batch` sequences.
    public func prefillLayerWork(batch: Int, prompt: Int) -> DeviceWork {
        projectionWork(rows: batch * prompt) + attentionWork(batch: batch, queries: prompt, keys: prompt)
            + mlpWork(rows: batch * prompt)
    }

    /// One layer of one decode step attending over `keys` tokens (cached plus
    /// the current one).
    public func decodeLayerWork(batch: Int, keys: Int) -> DeviceWork {
        projectionWork(rows: batch) + attentionWork(batch: batch, queries: 1, keys: keys) + mlpWork(rows: batch)
    }
}
