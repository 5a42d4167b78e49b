import Foundation
import Model
import Numerics
import Tokenizer

/// Few-shot multiple-choice evaluation in the manner of lm-evaluation-harness: each choice
/// is scored by the summed log-likelihood of its continuation tokens given its context,
/// tokens = encode(context) + encode(continuation) (each tokenized on its own, no BOS).
///
/// Batching: the choices of consecutive items are packed into one forward call, up to
/// `maxBatchTokens` tokens (at least one whole item per call; the logits of a call take
/// 4 × vocabSize bytes per token, twice). Every choice is its own sequence with its own
/// policy; nothing is reused between choices that share a context (the engine cannot copy
/// a sequence's cache, and under a policy the shared prefix would have to be replayed
/// anyway). What a batch shares is the weight traffic of its matrix products.
public enum FewShot {
    /// - Parameters:
    ///   - makePolicy: a fresh policy per choice sequence (nil: full cache).
    ///   - policyStart: positions from here on read through the policy (0: every position).
    ///   - progress: called after each forward batch with (items scored, items to score).
    public static func evaluate(model: LlamaModel, tokenizer: BPETokenizer, task: FewShotTask,
                                makePolicy: (() throws -> KVPolicy)? = nil, policyStart: Int = 0,
                                maxBatchTokens: Int = 1024,
                                progress: ((Int, Int) -> Void)? = nil) throws -> FewShotResult {
        guard policyStart >= 0 else { throw FewShotError("policyStart must be non-negative (got \(policyStart))") }
        guard maxBatchTokens >= 1 else { throw FewShotError("maxBatchTokens must be positive (got \(maxBatchTokens))") }
        let start = Date()
        let items = try task.evaluatedItems.map { try PreparedItem($0, tokenizer: tokenizer) }
        var result = FewShotResult(task: task.name, shots: task.shots, notes: task.notes, records: [],
                                   tokensProcessed: 0, forwardCalls: 0, seconds: 0)
        result.records.reserveCapacity(items.count)
        var next = 0
        while next < items.count {
            var end = next + 1, tokens = items[next].tokenCount
            while end < items.count && tokens + items[end].tokenCount <= maxBatchTokens {
                tokens += items[end].tokenCount
                end += 1
            }
            let batch = Array(items[next..<end])
            let sums = try score(batch.flatMap(\.choices), model: model, makePolicy: makePolicy,
                                 policyStart: policyStart, result: &result)
            var k = 0
            for item in batch {
                let n = item.choices.count
                result.records.append(item.record(loglikelihoods: Array(sums[k..<(k + n)])))
                k += n
            }
            next = end
            progress?(next, items.count)
        }
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// Summed continuation log-probabilities of `choices`, all in one teacher-forced batch:
    /// one forward with `.all` logits over context + continuation (minus the last token,
    /// whose prediction is not needed, as in lm-eval).
    static func score(_ choices: [PreparedChoice], model: LlamaModel, makePolicy: (() throws -> KVPolicy)?,
                      policyStart: Int, result: inout FewShotResult) throws -> [Double] {
        let V = model.config.vocabSize
        let sequences = try choices.map {
            model.newSequence(policy: try makePolicy?(), policyStart: policyStart, capacity: $0.fedCount)
        }
        let logits = try model.forward(choices.indices.map { (sequences[$0], choices[$0].fed) }, logits: .all)
        result.forwardCalls += 1
        result.tokensProcessed += choices.reduce(0) { $0 + $1.fedCount }
        return choices.indices.map { i in
            // Row context.count - 1 + j predicts continuation[j].
            var sum = 0.0
            for (j, token) in choices[i].continuation.enumerated() {
                let row = logits[i].pointer + (choices[i].context.count - 1 + j) * V
                sum += Double(row[token]) - Kernels.logSumExp(row, V)
            }
            return sum
        }
    }
}

/// One choice, tokenized.
struct PreparedChoice {
    let context: [Int]
    let continuation: [Int]
    /// Context + continuation minus its last token: what the model must see.
    var fed: [Int] { context + continuation.dropLast() }
    var fedCount: Int { context.count + continuation.count - 1 }
}

/// One item, tokenized (a context shared by several choices is encoded once).
struct PreparedItem {
    let item: FewShotItem
    let choices: [PreparedChoice]
    var tokenCount: Int { choices.reduce(0) { $0 + $1.fedCount } }

    init(_ item: FewShotItem, tokenizer: BPETokenizer) throws {
        var encoded: [String: [Int]] = [:]
        choices = try zip(item.contexts, item.continuations).map { context, continuation in
            let ctx = encoded[context] ?? tokenizer.encode(context)
            encoded[context] = ctx
            let cont = tokenizer.encode(continuation)
            guard !ctx.isEmpty, !cont.isEmpty else {
                throw FewShotError("item \(item.id): a context or continuation encodes to no tokens")
            }
            return PreparedChoice(context: ctx, continuation: cont)
        }
        self.item = item
    }

    func record(loglikelihoods: [Double]) -> FewShotRecord {
        FewShotRecord(id: item.id, gold: item.gold, loglikelihoods: loglikelihoods,
                      continuationCharacters: item.continuations.map { $0.unicodeScalars.count },
                      tokenCounts: choices.map { [$0.context.count, $0.continuation.count] })
    }
}
