import Foundation
import GGUF
import Tokenizer
import XCTest
@testable import Model
import Numerics
@testable import Policies

/// Deterministic PRNG (SplitMix64) for reproducible synthetic data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func normal() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self), u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
    mutating func normals(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in normal() * scale } }
}

/// A small random Llama (f32 weights) built in memory: 4 layers, 4 query heads sharing
/// 2 KV heads, head_dim 64 (so the artifact's quantization group of 64 fits).
enum Tiny {
    static let config = LlamaConfig(vocabSize: 48, hiddenSize: 64, layers: 4, heads: 4, kvHeads: 2, headDim: 64,
                                    ffnSize: 96, contextLength: 512, tiedOutput: true)

    static func model(seed: UInt64 = 7) -> LlamaModel {
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

    static func tokens(_ n: Int, seed: UInt64 = 11) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Int.random(in: 0..<config.vocabSize, using: &rng) }
    }
}

enum Run {
    /// One forward over all tokens; logits of every position, flattened.
    static func teacherForced(_ model: LlamaModel, _ policy: KVPolicy?, _ tokens: [Int], policyStart: Int = 0) throws -> [Float] {
        let seq = model.newSequence(policy: policy, policyStart: policyStart, capacity: 8)
        return try model.forward([(seq, tokens)], logits: .all)[0].array
    }

    /// Prompt of `prompt` tokens, then one token per call; logits of positions
    /// `prompt - 1 ..< tokens.count`, flattened.
    static func decode(_ model: LlamaModel, _ policy: KVPolicy?, _ tokens: [Int], prompt: Int) throws -> [Float] {
        let seq = model.newSequence(policy: policy, policyStart: prompt, capacity: 8)
        var out = try model.forward([(seq, Array(tokens[0..<prompt]))], logits: .last)[0].array
        for t in prompt..<tokens.count { out += try model.forward([(seq, [tokens[t]])], logits: .last)[0].array }
        return out
    }

    static func policy(_ spec: String, _ model: LlamaModel) throws -> KVPolicy {
        try PolicyRegistry.make(spec, model: model).makePolicy()
    }

    static func maxDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Log-probabilities of each next token (teacher forcing), from flattened logits.
    static func logprobs(_ logits: [Float], tokens: [Int], vocab: Int) -> [Double] {
        logits.withUnsafeBufferPointer { l in
            (0..<(tokens.count - 1)).map { t in
                let row = l.baseAddress! + t * vocab
                return Double(row[tokens[t + 1]]) - Kernels.logSumExp(row, vocab)
            }
        }
    }
}

/// The real SmolLM2 model from the asset cache, or a skip.
enum RealModel {
    nonisolated(unsafe) private static var cached: LlamaModel?
    private static let lock = NSLock()

    static func model() throws -> LlamaModel {
        lock.lock(); defer { lock.unlock() }
        if let m = cached { return m }
        guard let path = try? Assets.modelPath(searchFrom: #filePath) else {
            throw XCTSkip("model asset missing: set INFINIGEN_CACHE or run `make setup`")
        }
        BLASRuntime.setThreads(2)
        Parallel.threads = 2
        let file = try GGUFFile(path: path)
        let m = try LlamaModel(gguf: file)
        cached = m
        tokenizer = try BPETokenizer.from(gguf: file)
        return m
    }

    nonisolated(unsafe) private static var tokenizer: BPETokenizer?

    /// The first `count` tokens of a novel from the asset cache (no BOS), or a skip.
    static func novelTokens(_ name: String, count: Int) throws -> [Int] {
        _ = try model()
        guard let path = try? Assets.novelPath(name, searchFrom: #filePath) else { throw XCTSkip("novel \(name) missing") }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let ids = Array(tokenizer!.encode(text).prefix(count))
        guard ids.count == count else { throw XCTSkip("novel \(name) has fewer than \(count) tokens") }
        return ids
    }
}
