import XCTest
@testable import Model
import Numerics
import TestSupport

/// The engine against the independent numpy reference on the real model.
final class ReferenceGoldenTests: XCTestCase {
    func testPridePrefillMatchesReference() throws {
        let model = try RealModel.model()
        let ref = try Real.fixture("reference_pride", as: Real.Pride.self)
        let seq = model.newSequence()
        let logits = try model.forward([(seq, ref.token_ids)], logits: .all)[0]
        let V = model.config.vocabSize
        var worst = 0.0
        for t in 0..<64 {
            let lp = Real.logprob(logits.pointer + t * V, vocab: V, id: ref.token_ids[t + 1])
            worst = max(worst, abs(lp - ref.next_token_logprob[t]))
            for pair in ref.top10[t].top {
                let lpTop = Real.logprob(logits.pointer + t * V, vocab: V, id: Int(pair[0]))
                XCTAssertEqual(lpTop, pair[1], accuracy: 1e-3, "position \(t) token \(Int(pair[0]))")
            }
        }
        XCTAssertLessThan(worst, 1e-3, "worst next-token log-prob difference over 64 positions")
        var nll = 0.0
        for t in 0..<(ref.token_ids.count - 1) {
            nll -= Real.logprob(logits.pointer + t * V, vocab: V, id: ref.token_ids[t + 1])
        }
        let ppl = exp(nll / Double(ref.token_ids.count - 1))
        print("perplexity: engine \(ppl), reference \(ref.perplexity); worst |Δ log p| (64 positions) \(worst)")
        XCTAssertEqual(ppl / ref.perplexity, 1, accuracy: 5e-5, "perplexity to 4 significant digits")
    }

    /// Token-by-token decode reproduces the prefill's log-probabilities.
    func testDecodeMatchesReference() throws {
        let model = try RealModel.model()
        let ref = try Real.fixture("reference_pride", as: Real.Pride.self)
        let seq = model.newSequence()
        let V = model.config.vocabSize
        _ = try model.forward([(seq, Array(ref.token_ids[0..<8]))], logits: .none)
        for t in 8..<40 {
            let row = try model.forward([(seq, [ref.token_ids[t]])])[0]
            let lp = Real.logprob(row.pointer, vocab: V, id: ref.token_ids[t + 1])
            XCTAssertEqual(lp, ref.next_token_logprob[t], accuracy: 1e-3, "decode step at position \(t)")
        }
    }

    /// Ragged batches: three prompts of different lengths prefilled together, then decoded
    /// together, match the reference one by one.
    func testRaggedBatchMatchesReference() throws {
        let model = try RealModel.model()
        let ref = try Real.fixture("reference_batch", as: Real.Batch.self)
        let V = model.config.vocabSize
        let seqs = ref.prompts.map { _ in model.newSequence() }
        let half = ref.prompts.map { $0.ids.count / 2 }
        let first = try model.forward(zip(seqs, ref.prompts).enumerated().map { i, p in (p.0, Array(p.1.ids[0..<half[i]])) }, logits: .all)
        for (i, p) in ref.prompts.enumerated() {
            for t in 0..<(half[i] - 1) {
                XCTAssertEqual(Real.logprob(first[i].pointer + t * V, vocab: V, id: p.ids[t + 1]),
                               p.next_token_logprob[t], accuracy: 1e-3, "prompt \(i) position \(t)")
            }
        }
        // Then decode the rest one token per sequence per step, in one batch.
        var step = 0
        while true {
            let active = ref.prompts.indices.filter { half[$0] + step < ref.prompts[$0].ids.count - 1 }
            if active.isEmpty { break }
            let rows = try model.forward(active.map { (seqs[$0], [ref.prompts[$0].ids[half[$0] + step]]) })
            for (j, i) in active.enumerated() {
                let t = half[i] + step
                XCTAssertEqual(Real.logprob(rows[j].pointer, vocab: V, id: ref.prompts[i].ids[t + 1]),
                               ref.prompts[i].next_token_logprob[t], accuracy: 1e-3, "prompt \(i) decode position \(t)")
            }
            step += 1
        }
    }

    func testGreedyContinuationOfCapitalPrompt() throws {
        let model = try RealModel.model()
        let ref = try Real.fixture("reference_greedy", as: Real.Greedy.self)
        let seq = model.newSequence()
        var row = try model.forward([(seq, ref.prompt_ids)])[0]
        var out: [Int] = []
        var sampler = GreedySampler()
        for _ in 0..<ref.generated_ids.count {
            let next = sampler.sample(row.pointer, count: model.config.vocabSize)
            out.append(next)
            row = try model.forward([(seq, [next])])[0]
        }
        XCTAssertEqual(out, ref.generated_ids)
    }
}
