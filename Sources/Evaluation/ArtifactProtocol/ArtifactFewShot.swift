import Foundation
import Tokenizer

/// Few-shot multiple choice under the artifact's protocol, as its
/// `accuracy/lm_eval/run_lm_eval_harness.py` scores a request: each choice's whole prompt
/// (context + continuation) is one masked pass, so that prompt's length sets the budget
/// (fetch_max, H2O's sizes), and the continuation's log-likelihood is read off its
/// log-softmax. Nothing is shared between the choices of an item: every mask row depends
/// on the whole length, so a shared prefix would not be exact here (the decode protocol
/// shares it, `FewShot`).
///
/// Tokens: context and continuation are encoded apart, as lm-eval's own requests and this
/// workbench's decode protocol do (the artifact encodes the joined prompt string, which
/// can merge one token across the seam).
public enum ArtifactFewShot {
    public struct Outcome: Sendable {
        public var result: FewShotResult
        /// One per scored choice, in item order: what its pass's masks selected.
        public var passes: [MaskStatistics]

        /// The artifact's reported density: the mean over requests (choices) of each
        /// pass's mean over its managed layers.
        public var density: Double {
            passes.isEmpty ? .nan : passes.map(\.density).reduce(0, +) / Double(passes.count)
        }
        public var retainRatio: Double { MaskStatistics.retainRatio(density: density) }
    }

    /// - Parameter progress: called after each item with (items scored, items to score).
    public static func evaluate(evaluator: ArtifactEvaluator, tokenizer: BPETokenizer, task: FewShotTask,
                                progress: ((Int, Int) -> Void)? = nil) throws -> Outcome {
        let start = Date()
        let items = try task.evaluatedItems.map { try PreparedItem($0, tokenizer: tokenizer) }
        var result = FewShotResult(task: task.name, shots: task.shots, notes: task.notes, records: [],
                                   tokensProcessed: 0, forwardCalls: 0, seconds: 0)
        var passes: [MaskStatistics] = []
        for (n, item) in items.enumerated() {
            var sums: [Double] = []
            for choice in item.choices {
                let scored = try evaluator.logLikelihood(context: choice.context, continuation: choice.continuation)
                sums.append(scored.logLikelihood)
                passes.append(scored.statistics)
                result.forwardCalls += 1
                result.tokensProcessed += choice.context.count + choice.continuation.count
            }
            result.records.append(item.record(loglikelihoods: sums))
            progress?(n + 1, items.count)
        }
        result.seconds = Date().timeIntervalSince(start)
        return Outcome(result: result, passes: passes)
    }
}
