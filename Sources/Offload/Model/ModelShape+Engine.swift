import Model

extension ModelShape {
    /// This shape as the workbench engine holds `model`: layer and head matrices at their
    /// compressed size per element (Q4_1 and Q8_0 for SmolLM2), the KV cache and
    /// activations in f32. Throws if `model` has other dimensions.
    public func withEngineStorage(of model: LlamaModel) throws -> ModelShape {
        let c = model.config
        let mine = [layers, hidden, heads, kvHeads, headDim, ffn, vocab]
        let theirs = [c.layers, c.hiddenSize, c.heads, c.kvHeads, c.headDim, c.ffnSize, c.vocabSize]
        guard mine == theirs else {
            throw OffloadError.invalidModelShape(file: name, field: "(dimensions)",
                                                 reason: "do not match the loaded model (\(mine) vs \(theirs))")
        }
        let w = model.weights
        let layerBytes = w.layers.reduce(0) { acc, l in
            acc + [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown].reduce(0) { $0 + $1.compressedBytes }
        }
        var shape = self
        shape.name = name + "-engine"
        shape.weightBytesPerElement = Double(layerBytes) / Double(layers * (attentionWeightElements + mlpWeightElements))
        shape.headBytesPerElement = Double(w.output.compressedBytes) / Double(vocab * hidden)
        shape.kvBytesPerElement = 4
        shape.sources["weight_bytes_per_element"] = "the loaded GGUF: compressed bytes of the layer matrices (\(w.layers[0].wq.format.rawValue)) per element"
        shape.sources["head_bytes_per_element"] = "the loaded GGUF: compressed bytes of the output head (\(w.output.format.rawValue)) per element"
        shape.sources["kv_bytes_per_element"] = "the engine keeps K, V and activations in f32"
        return shape
    }
}
