import XCTest
@testable import Model
@testable import Policies

final class OracleTests: XCTestCase {
    private let config = LlamaConfig(vocabSize: 8, hiddenSize: 4, layers: 1, heads: 2, kvHeads: 1, headDim: 2, ffnSize: 4)

    private func oracle(k: Int = 0, budget: Double = 0.2, topP: Double = 0, keys: [[Float]]) -> OraclePolicy {
        let policy = OraclePolicy(config: config, budget: TokenBudget(fraction: budget, tokens: k), topP: topP, firstManagedLayer: 0)
        for (t, key) in keys.enumerated() { policy.observeKeys(layer: 0, position: t, keys: key, values: key) }
        return policy
    }

    private func select(_ policy: OraclePolicy, at t: Int, queries: [Float]) -> [Int32]? {
        let selection = Selection(kvHeads: 1)
        queries.withUnsafeBufferPointer { policy.select(layer: 0, position: t, queries: $0.baseAddress!, selection: selection) }
        return selection.positions[0]
    }

    func testTopKBySummedLogitsWithTiesToTheEarlier() {
        // Query heads (1, 0) and (0, 1): a key's rank is k0 + k1.
        let keys: [[Float]] = [[1, 1], [3, 0], [0, -1], [2, 2], [0, 3], [-4, 9], [0, 0]]
        let policy = oracle(k: 3, keys: keys)
        // Sums: 2, 3, -1, 4, 3, 5, (own). Top 3: 5 (pos 5), 4 (pos 3), then 3 at 1 and 4: the earlier.
        XCTAssertEqual(select(policy, at: 6, queries: [1, 0, 0, 1]), [1, 3, 5])
        // k at least the cache: everything.
        XCTAssertNil(select(oracle(k: 6, keys: keys), at: 6, queries: [1, 0, 0, 1]))
        // Fraction: ceil(0.4 · 7) = 3 tokens.
        XCTAssertEqual(select(oracle(budget: 0.4, keys: keys), at: 6, queries: [1, 0, 0, 1]), [1, 3, 5])
    }

    func testTopPTakesTheFewestTokensReachingTheMass() {
        // One query direction; logits (scaled by 1/√2) make position 2 dominant.
        let keys: [[Float]] = [[0, 0], [1, 1], [8, 8], [0, 0], [0, 0]]
        let q: [Float] = [1, 1, 1, 1]
        var logits = keys.map { ($0[0] + $0[1]) / Float(2).squareRoot() }
        let m = logits.max()!
        logits = logits.map { exp($0 - m) }
        let total = logits.reduce(0, +)
        let p = logits.map { $0 / total }
        // Own row (position 4) holds p[4]; position 2 brings the mass past 0.9.
        XCTAssertLessThan(Double(p[4]), 0.9)
        XCTAssertGreaterThan(Double(p[4] + p[2]), 0.9)
        XCTAssertEqual(select(oracle(topP: 0.9, keys: keys), at: 4, queries: q), [2])
        // Asking for more than position 2 gives: next best is 1.
        let needs = Double(p[4] + p[2]) + Double(p[1]) / 2
        XCTAssertEqual(select(oracle(topP: needs, keys: keys), at: 4, queries: q), [1, 2])
        XCTAssertNil(select(oracle(topP: 1, keys: keys), at: 4, queries: q))
    }
}
