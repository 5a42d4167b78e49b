import Foundation
import XCTest
@testable import Model
import Numerics
@testable import Policies

/// The policies on the real SmolLM2 model (skipped when the asset cache is missing).
final class RealModelTests: XCTestCase {
    /// 64 token ids of ordinary text-like frequency (fixed, so no tokenizer is needed).
    private func tokens(_ model: LlamaModel) -> [Int] {
        var rng = SplitMix64(seed: 99)
        return (0..<64).map { _ in Int.random(in: 100..<8000, using: &rng) }
    }

    /// The oracle with k = everything reproduces full attention, also when the selection
    /// is spelled out (the engine's gather path). The reference is `full` through the same
    /// row-at-a-time path; the policy-less causal-block path agrees to float rounding.
    func testOracleWithEverythingIsFull() throws {
        let model = try RealModel.model()
        let ids = tokens(model)
        let V = model.config.vocabSize
        let full = Run.logprobs(try Run.teacherForced(model, Run.policy("full", model), ids), tokens: ids, vocab: V)
        let blocked = Run.logprobs(try Run.teacherForced(model, nil, ids), tokens: ids, vocab: V)
        XCTAssertLessThan(zip(blocked, full).map { abs($0 - $1) }.max()!, 1e-4)
        for explicit in [false, true] {
            let policy = CheckingPolicy(try Run.policy("oracle:k=1000000", model), explicit: explicit)
            let lp = Run.logprobs(try Run.teacherForced(model, policy, ids), tokens: ids, vocab: V)
            XCTAssertLessThan(zip(lp, full).map { abs($0 - $1) }.max()!, 1e-5)
            XCTAssertEqual(policy.problems, [])
        }
    }
}

/// Perplexity of the first 1024 tokens of Pride and Prejudice, teacher-forced with every
/// position policy-managed, for each baseline. A report, not a regression gate: it runs
/// only with INFINIGEN_POLICY_SANITY=1 (release build advised) and prints the numbers.
final class PolicySanityReport: XCTestCase {
    func testPerplexities() throws {
        guard ProcessInfo.processInfo.environment["INFINIGEN_POLICY_SANITY"] == "1" else {
            throw XCTSkip("set INFINIGEN_POLICY_SANITY=1 to run the perplexity report")
        }
        let model = try RealModel.model()
        let ids = try RealModel.novelTokens("prideprejudice", count: 1024)
        let V = model.config.vocabSize
        var fullPPL = 0.0
        for spec in ["full", "flexgen", "h2o:heavy=0.1,recent=0.1", "streaming", "quest:budget=0.2",
                     "quest:page=1,budget=0.2", "oracle:budget=0.2", "quant:bits=8", "quant:bits=4", "quant:bits=2"] {
            let start = Date()
            let lp = Run.logprobs(try Run.teacherForced(model, Run.policy(spec, model), ids), tokens: ids, vocab: V)
            let ppl = exp(-lp.reduce(0, +) / Double(lp.count))
            if spec == "full" { fullPPL = ppl }
            XCTAssertTrue(ppl.isFinite && ppl > 1, spec)
            print("sanity " + spec.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(format: " perplexity %8.4f (x%.3f of full)  %.1f s", ppl, ppl / fullPPL, Date().timeIntervalSince(start)))
        }
    }
}
