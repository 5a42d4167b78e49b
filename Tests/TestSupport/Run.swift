import Model
import Numerics
import Policies

/// The two ways of running a sequence through the engine, and comparisons of their logits.
public enum Run {
    /// One forward over all tokens; logits of every position, flattened.
    public static func teacherForced(_ model: LlamaModel, _ policy: KVPolicy?, _ tokens: [Int], policyStart: Int = 0) throws -> [Float] {
        let seq = model.newSequence(policy: policy, policyStart: policyStart, capacity: 8)
        return try model.forward([(seq, tokens)], logits: .all)[0].array
    }

    /// Prompt of `prompt` tokens, then one token per call; logits of positions
    /// `prompt - 1 ..< tokens.count`, flattened.
    public static func decode(_ model: LlamaModel, _ policy: KVPolicy?, _ tokens: [Int], prompt: Int) throws -> [Float] {
        let seq = model.newSequence(policy: policy, policyStart: prompt, capacity: 8)
        var out = try model.forward([(seq, Array(tokens[0..<prompt]))], logits: .last)[0].array
        for t in prompt..<tokens.count { out += try model.forward([(seq, [tokens[t]])], logits: .last)[0].array }
        return out
    }

    public static func policy(_ spec: String, _ model: LlamaModel) throws -> KVPolicy {
        try PolicyRegistry.make(spec, model: model).makePolicy()
    }

    public static func maxDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Log-probabilities of each next token (teacher forcing), from flattened logits.
    public static func logprobs(_ logits: [Float], tokens: [Int], vocab: Int) -> [Double] {
        logits.withUnsafeBufferPointer { l in
            (0..<(tokens.count - 1)).map { t in
                let row = l.baseAddress! + t * vocab
                return Double(row[tokens[t + 1]]) - Kernels.logSumExp(row, vocab)
            }
        }
    }

    /// `body` with `model.batchInvariant` on: every row then gets the arithmetic of a
    /// one-token step, so decode and teacher-forced runs agree bit for bit by construction.
    /// Restored afterwards (the loaded real model is shared by all tests of the process).
    public static func batchInvariant<T>(_ model: LlamaModel, _ body: () throws -> T) rethrows -> T {
        let was = model.batchInvariant
        model.batchInvariant = true
        defer { model.batchInvariant = was }
        return try body()
    }
}
