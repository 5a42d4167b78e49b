import Foundation
import Model
import Numerics

/// Perplexity of a token stream, scored in windows of `context` tokens that advance by
/// `stride` (stride == context gives disjoint windows). Each window is one teacher-forced
/// forward pass through the engine; within it, a token is scored only if no earlier
/// window scored it, so every token after the first is scored exactly once.
public struct PerplexityResult: Codable, Sendable {
    /// Negative log-likelihood of each scored token, in text order.
    public var nll: [Double]
    /// Position inside its window of each scored token (for per-chunk curves).
    public var windowPosition: [Int]
    public var tokens: Int { nll.count }
    public var meanNLL: Double { nll.isEmpty ? .nan : nll.reduce(0, +) / Double(nll.count) }
    public var perplexity: Double { exp(meanNLL) }
}

public enum Perplexity {
    /// - Parameters:
    ///   - makePolicy: a fresh policy per window (nil: full cache).
    ///   - policyStart: positions of each window from here on read through the policy.
    ///   - progress: called with (tokens scored, tokens to score).
    public static func evaluate(model: LlamaModel, tokens: [Int], context: Int, stride: Int,
                                makePolicy: (() throws -> KVPolicy)? = nil, policyStart: Int = 0,
                                progress: ((Int, Int) -> Void)? = nil) throws -> PerplexityResult {
        guard context >= 2 else { throw ModelError("context must be at least 2 tokens (got \(context))") }
        guard stride >= 1 && stride <= context else {
            throw ModelError("stride must be in 1...\(context) (got \(stride))")
        }
        guard tokens.count >= 2 else { throw ModelError("the text has fewer than 2 tokens") }
        let V = model.config.vocabSize
        var result = PerplexityResult(nll: [], windowPosition: [])
        var scoredUpTo = 1                      // tokens[0] is never predicted
        var begin = 0
        while scoredUpTo < tokens.count {
            let end = min(begin + context, tokens.count)
            let window = Array(tokens[begin..<end])
            let seq = model.newSequence(policy: try makePolicy?(), policyStart: policyStart, capacity: window.count)
            let logits = try model.forward([(seq, window)], logits: .all)[0]
            for i in max(scoredUpTo - begin, 1)..<window.count {
                let row = logits.pointer + (i - 1) * V
                let lse = Kernels.logSumExp(row, V)
                result.nll.append(lse - Double(row[window[i]]))
                result.windowPosition.append(i)
            }
            scoredUpTo = end
            progress?(scoredUpTo - 1, tokens.count - 1)
            if end == tokens.count { break }
            begin += stride
        }
        return result
    }
}
