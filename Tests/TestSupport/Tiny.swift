@testable import Model
import Numerics

/// A small random Llama (f32 weights) built in memory: 4 layers, 4 query heads sharing
/// 2 KV heads, head_dim 64 (so the artifact's quantization group of 64 fits).
public enum Tiny {
    public static let config = LlamaConfig(vocabSize: 48, hiddenSize: 64, layers: 4, heads: 4, kvHeads: 2, headDim: 64,
                                           ffnSize: 96, contextLength: 512, tiedOutput: true)

    public static func model(seed: UInt64 = 7) -> LlamaModel {
        var rng = SplitMix64(seed: seed)
        let c = config
        func matrix(_ rows: Int, _ cols: Int, gain: Float = 1) -> WeightMatrix {
            let values = rng.normals(rows * cols, scale: gain / Float(cols).squareRoot())
            return WeightMatrix(dense: FloatBuffer(values), rows: rows, cols: cols)
        }
        func norm(_ n: Int) -> FloatBuffer { FloatBuffer((0..<n).map { _ in 1 + 0.1 * rng.normal() }) }
        var layers: [LayerWeights] = []
        for _ in 0..<c.layers {
            // Larger query/key gains make attention peaked, so that what a policy drops matters.
            layers.append(LayerWeights(attnNorm: norm(c.hiddenSize),
                                       wq: matrix(c.qDim, c.hiddenSize, gain: 3), wk: matrix(c.kvDim, c.hiddenSize, gain: 3),
                                       wv: matrix(c.kvDim, c.hiddenSize), wo: matrix(c.hiddenSize, c.qDim),
                                       ffnNorm: norm(c.hiddenSize),
                                       wGate: matrix(c.ffnSize, c.hiddenSize), wUp: matrix(c.ffnSize, c.hiddenSize),
                                       wDown: matrix(c.hiddenSize, c.ffnSize)))
        }
        let embedding = matrix(c.vocabSize, c.hiddenSize, gain: 8)
        let weights = LlamaWeights(layers: layers, tokenEmbedding: embedding, outputNorm: norm(c.hiddenSize), output: embedding)
        return LlamaModel(config: c, weights: weights)
    }

    public static func tokens(_ n: Int, seed: UInt64 = 11) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Int.random(in: 0..<config.vocabSize, using: &rng) }
    }
}
