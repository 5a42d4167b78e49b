import GGUF
import Numerics

/// The weights of one transformer block.
public struct LayerWeights: Sendable {
    public let attnNorm: FloatBuffer
    public let wq, wk, wv, wo: WeightMatrix
    public let ffnNorm: FloatBuffer
    public let wGate, wUp, wDown: WeightMatrix
}

/// All weights of a Llama model. Q4_1 and Q8_0 matrices stay compressed (they point into
/// the memory-mapped file) for decode; each also has an f32 copy for sgemm.
public final class LlamaWeights: @unchecked Sendable {
    public let layers: [LayerWeights]
    public let tokenEmbedding: WeightMatrix
    public let outputNorm: FloatBuffer
    public let output: WeightMatrix
    /// Keeps the mapping alive while matrices point into it.
    private let file: AnyObject?

    public init(layers: [LayerWeights], tokenEmbedding: WeightMatrix, outputNorm: FloatBuffer,
                output: WeightMatrix, file: AnyObject? = nil) {
        self.layers = layers
        self.tokenEmbedding = tokenEmbedding
        self.outputNorm = outputNorm
        self.output = output
        self.file = file
    }

    public convenience init(gguf: GGUFFile, config c: LlamaConfig) throws {
        func vector(_ name: String, _ n: Int) throws -> FloatBuffer {
            guard let t = gguf.tensor(named: name) else { throw ModelError("tensor '\(name)' is missing from the model file") }
            guard t.elementCount == n else {
                throw ModelError("tensor '\(name)' has \(t.elementCount) elements, expected \(n)")
            }
            return FloatBuffer(try gguf.dequantize(t))
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            guard let t = gguf.tensor(named: name) else { throw ModelError("tensor '\(name)' is missing from the model file") }
            guard t.dims.count == 2, t.dims[0] == cols, t.dims[1] == rows else {
                throw ModelError("tensor '\(name)' has shape \(t.dims), expected [\(cols), \(rows)]")
            }
            let dense = FloatBuffer(count: rows * cols, zeroed: false)
            let format: WeightFormat? = switch t.type {
            case .q4_1: .q4_1
            case .q8_0: .q8_0
            case .f32: .f32
            default: nil
            }
            let bytes = gguf.data(of: t)
            if let format {
                QuantKernels.dequantize(format, bytes.baseAddress!, count: rows * cols, into: dense.pointer)
                return WeightMatrix(rows: rows, cols: cols, format: format, blocks: bytes.baseAddress!,
                                    owner: gguf, dense: dense)
            }
            // Other GGUF types are widened once and served from f32.
            let values = try gguf.dequantize(t)
            values.withUnsafeBufferPointer { dense.pointer.update(from: $0.baseAddress!, count: values.count) }
            return WeightMatrix(dense: dense, rows: rows, cols: cols)
        }
        var layers: [LayerWeights] = []
        for l in 0..<c.layers {
            let p = "blk.\(l)."
            layers.append(LayerWeights(
                attnNorm: try vector(p + "attn_norm.weight", c.hiddenSize),
                wq: try matrix(p + "attn_q.weight", rows: c.qDim, cols: c.hiddenSize),
                wk: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: c.hiddenSize),
                wv: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: c.hiddenSize),
                wo: try matrix(p + "attn_output.weight", rows: c.hiddenSize, cols: c.qDim),
                ffnNorm: try vector(p + "ffn_norm.weight", c.hiddenSize),
                wGate: try matrix(p + "ffn_gate.weight", rows: c.ffnSize, cols: c.hiddenSize),
                wUp: try matrix(p + "ffn_up.weight", rows: c.ffnSize, cols: c.hiddenSize),
                wDown: try matrix(p + "ffn_down.weight", rows: c.hiddenSize, cols: c.ffnSize)))
        }
        let embedding = try matrix("token_embd.weight", rows: c.vocabSize, cols: c.hiddenSize)
        let output = c.tiedOutput ? embedding : try matrix("output.weight", rows: c.vocabSize, cols: c.hiddenSize)
        self.init(layers: layers, tokenEmbedding: embedding,
                  outputNorm: try vector("output_norm.weight", c.hiddenSize), output: output, file: gguf)
    }
}
