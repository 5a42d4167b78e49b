import Foundation
import Model
import Numerics
import Tokenizer

/// Few-shot multiple-choice evaluation in the manner of lm-evaluation-harness: each choice
/// is scored by the summed log-likelihood of its continuation tokens given its context,
/// tokens = encode(context) + encode(continuation) (each tokenized on its own, no BOS).
///
/// Shared prefix: the choices of an item share their five-shot context (all of it, or up
/// to the blank for WinoGrande). With `sharePrefix` (the default) that common token prefix
/// runs once, under one policy, and the sequence — KV cache and policy state — is forked
/// for each choice's remaining tokens (`SequenceState.fork`). The policy sees exactly what
/// it sees scoring each choice from scratch, so with a batch-invariant model the numbers
/// are bit for bit the same (tested); otherwise only the matrix products' batching differs.
///
/// Batching: consecutive items are packed into one round of two forward calls (their
/// prefixes, then every choice's rest), up to `maxBatchTokens` tokens run (at least one
/// whole item; logits are taken for the choices' rest only). What a batch shares is the
/// weight traffic of its matrix products.
public enum FewShot {
    /// - Parameters:
    ///   - makePolicy: a fresh policy per choice sequence (nil: full cache).
    ///   - policyStart: positions from here on read through the policy (0: every position).
    ///   - sharePrefix: run each item's common prefix once and fork it per choice (false:
    ///     every choice from scratch, its own policy from `makePolicy`).
    ///   - progress: called after each forward batch with (items scored, items to score).
    public static func evaluate(model: LlamaModel, tokenizer: BPETokenizer, task: FewShotTask,
                                makePolicy: (() throws -> KVPolicy)? = nil, policyStart: Int = 0,
                                maxBatchTokens: Int = 1024, sharePrefix: Bool = true,
                                progress: ((Int, Int) -> Void)? = nil) throws -> FewShotResult {
        guard policyStart >= 0 else { throw FewShotError("policyStart must be non-negative (got \(policyStart))") }
        guard maxBatchTokens >= 1 else { throw FewShotError("maxBatchTokens must be positive (got \(maxBatchTokens))") }
        let start = Date()
        let items = try task.evaluatedItems.map { try PreparedItem($0, tokenizer: tokenizer) }
        var result = FewShotResult(task: task.name, shots: task.shots, notes: task.notes, records: [],
                                   tokensProcessed: 0, forwardCalls: 0, seconds: 0)
        result.records.reserveCapacity(items.count)
        let cost: (PreparedItem) -> Int = { sharePrefix ? $0.sharedTokenCount : $0.tokenCount }
        var next = 0
        while next < items.count {
            var end = next + 1, tokens = cost(items[next])
            while end < items.count && tokens + cost(items[end]) <= maxBatchTokens {
                tokens += cost(items[end])
                end += 1
            }
            let batch = Array(items[next..<end])
            let sums = sharePrefix
                ? try scoreShared(batch, model: model, makePolicy: makePolicy, policyStart: policyStart, result: &result)
                : try score(batch.flatMap(\.choices), model: model, makePolicy: makePolicy,
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

extension FewShot {
    /// Summed continuation log-probabilities of the choices of `items`, in item order: each
    /// item's shared prefix in one forward call (no logits), then the prefix's sequence is
    /// forked for every choice but the last (which continues the original) and every
    /// choice's rest runs in a second call with `.all` logits.
    static func scoreShared(_ items: [PreparedItem], model: LlamaModel, makePolicy: (() throws -> KVPolicy)?,
                            policyStart: Int, result: inout FewShotResult) throws -> [Double] {
        let V = model.config.vocabSize
        let prefixes = try items.map { item -> SequenceState? in
            guard item.prefixCount > 0 else { return nil }
            return model.newSequence(policy: try makePolicy?(), policyStart: policyStart,
                                     capacity: item.choices.map(\.fedCount).max()!)
        }
        let prefixBatch = items.indices.compactMap { i in
            prefixes[i].map { ($0, Array(items[i].choices[0].fed.prefix(items[i].prefixCount))) }
        }
        if !prefixBatch.isEmpty {
            try model.forward(prefixBatch, logits: .none)
            result.forwardCalls += 1
        }
        var batch: [(sequence: SequenceState, tokens: [Int])] = []
        var starts: [Int] = []                      // per choice: first position fed in the second call
        for (i, item) in items.enumerated() {
            let n = item.choices.count
            for (c, choice) in item.choices.enumerated() {
                let sequence: SequenceState
                if let prefix = prefixes[i] {
                    sequence = c == n - 1 ? prefix : try prefix.fork()
                } else {
                    sequence = model.newSequence(policy: try makePolicy?(), policyStart: policyStart, capacity: choice.fedCount)
                }
                batch.append((sequence, Array(choice.fed[item.prefixCount...])))
                starts.append(item.prefixCount)
            }
        }
        let logits = try model.forward(batch, logits: .all)
        result.forwardCalls += 1
        result.tokensProcessed += items.reduce(0) { $0 + $1.sharedTokenCount }
        let choices = items.flatMap(\.choices)
        return choices.indices.map { i in
            // Row context.count - 1 + j of the whole sequence predicts continuation[j].
            var sum = 0.0
            for (j, token) in choices[i].continuation.enumerated() {
                let row = logits[i].pointer + (choices[i].context.count - 1 + j - starts[i]) * V
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
    /// Tokens every choice feeds first (their common prefix), stopping before the shortest
    /// context's last token so that every row whose logits are scored runs after the fork.
    let prefixCount: Int
    var tokenCount: Int { choices.reduce(0) { $0 + $1.fedCount } }
    /// Tokens run when the prefix is shared.
    var sharedTokenCount: Int { prefixCount + choices.reduce(0) { $0 + $1.fedCount - prefixCount } }

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
        let feds = choices.map(\.fed)
        var common = 0
        let limit = choices.map { $0.context.count - 1 }.min()!
        while common < limit && feds.allSatisfy({ $0[common] == feds[0][common] }) { common += 1 }
        prefixCount = common
    }

    func record(loglikelihoods: [Double]) -> FewShotRecord {
        FewShotRecord(id: item.id, gold: item.gold, loglikelihoods: loglikelihoods,
                      continuationCharacters: item.continuations.map { $0.unicodeScalars.count },
                      tokenCounts: choices.map { [$0.context.count, $0.continuation.count] })
    }
}
