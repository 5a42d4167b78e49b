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
