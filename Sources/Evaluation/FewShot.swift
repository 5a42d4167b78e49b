import Foundation
import Model
import Numerics
import Tokenizer

/// Few-shot multiple-choice evaluation in the manner of lm-evaluation-harness: each choice
/// is scored by the summed log-likelihood of its continuation tokens given its context,
/// tokens = encode(context) + encode(continuation) (each tokenized on its own, no BOS).
///
/// Batching: the choices of consecutive items are packed into one forward call, up to
/// `maxBatchTokens` tokens (at least one whole item per call). Every choice is its own
/// sequence with its own policy; nothing is reused between choices that share a context
/// (the engine cannot copy a sequence's cache, and under a policy the shared prefix would
/// have to be replayed anyway). What the batch shares is the weight traffic.
public enum FewShot {
    /// - Parameters:
    ///   - makePolicy: a fresh policy per choice sequence (nil: full cache).
    ///   - policyStart: positions from here on read through the policy (0: every position).
    ///   - progress: called after each forward batch with (items scored, items to score).
    public static func evaluate(model: LlamaModel, tokenizer: BPETokenizer, task: FewShotTask,
                                makePolicy: (() throws -> KVPolicy)? = nil, policyStart: Int = 0,
                                scoring: FewShotScoring = .wholeSequence, maxBatchTokens: Int = 2048,
                                progress: ((Int, Int) -> Void)? = nil) throws -> FewShotResult {
        guard policyStart >= 0 else { throw FewShotError("policyStart must be non-negative (got \(policyStart))") }
        guard maxBatchTokens >= 1 else { throw FewShotError("maxBatchTokens must be positive (got \(maxBatchTokens))") }
        let start = Date()
        let items = try task.evaluatedItems.map { try PreparedItem($0, tokenizer: tokenizer, vocabSize: model.config.vocabSize) }
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
                                 policyStart: policyStart, scoring: scoring, result: &result)
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

    /// Summed continuation log-probabilities of `choices`, all in one batch.
    static func score(_ choices: [PreparedChoice], model: LlamaModel, makePolicy: (() throws -> KVPolicy)?,
                      policyStart: Int, scoring: FewShotScoring, result: inout FewShotResult) throws -> [Double] {
        let V = model.config.vocabSize
        let sequences = try choices.map {
            model.newSequence(policy: try makePolicy?(), policyStart: policyStart, capacity: $0.fedCount)
        }
        var sums = [Double](repeating: 0, count: choices.count)
        // Adds log P(continuation[j] | ...) for j in `js`, reading logits row `row0 + j - j0`.
        func add(_ i: Int, _ logits: FloatBuffer, firstRow: Int, tokens js: Range<Int>) {
            for (r, j) in js.enumerated() {
                let row = logits.pointer + (firstRow + r) * V
                sums[i] += Double(row[choices[i].continuation[j]]) - Kernels.logSumExp(row, V)
            }
        }
        switch scoring {
        case .wholeSequence:
            let out = try model.forward(choices.indices.map { (sequences[$0], choices[$0].fed) }, logits: .all)
            result.forwardCalls += 1
            for i in choices.indices {
                add(i, out[i], firstRow: choices[i].context.count - 1, tokens: 0..<choices[i].continuation.count)
            }
        case .contextThenContinuation:
            let first = try model.forward(choices.indices.map { (sequences[$0], choices[$0].context) }, logits: .last)
            result.forwardCalls += 1
            for i in choices.indices { add(i, first[i], firstRow: 0, tokens: 0..<1) }
            let rest = choices.indices.filter { choices[$0].continuation.count > 1 }
            if !rest.isEmpty {
                let out = try model.forward(rest.map { (sequences[$0], Array(choices[$0].continuation.dropLast())) }, logits: .all)
                result.forwardCalls += 1
                for (k, i) in rest.enumerated() { add(i, out[k], firstRow: 0, tokens: 1..<choices[i].continuation.count) }
            }
        }
        result.tokensProcessed += choices.reduce(0) { $0 + $1.fedCount }
        return sums
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

    init(_ item: FewShotItem, tokenizer: BPETokenizer, vocabSize: Int) throws {
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
