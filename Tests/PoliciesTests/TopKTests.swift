import XCTest
@testable import Policies

final class TopKTests: XCTestCase {
    /// The reference: full sort by (score desc, index asc or desc).
    private func reference(_ k: Int, _ scores: [Float], lowerWins: Bool) -> [Int32] {
        let order = scores.indices.sorted { a, b in
            scores[a] != scores[b] ? scores[a] > scores[b] : (lowerWins ? a < b : a > b)
        }
        return order.prefix(k).map { Int32($0) }.sorted()
    }

    func testMatchesSortOnRandomInputsWithTies() {
        var rng = SplitMix64(seed: 3)
        var topK = TopK()
        var out: [Int32] = []
        for trial in 0..<400 {
            let n = Int.random(in: 1...70, using: &rng)
            // Few distinct values: many ties, which must break by index.
            let distinct = trial % 2 == 0 ? 3 : 1000
            let scores = (0..<n).map { _ in Float(Int.random(in: 0..<distinct, using: &rng)) }
            let k = Int.random(in: 0...n + 2, using: &rng)
            for lowerWins in [true, false] {
                scores.withUnsafeBufferPointer { topK.select(k, of: n, scores: $0.baseAddress!, lowerIndexWins: lowerWins, into: &out) }
                XCTAssertEqual(out, reference(min(k, n), scores, lowerWins: lowerWins), "n \(n) k \(k) trial \(trial)")
            }
        }
    }

    func testSortedAndConstantInputs() {
        var topK = TopK()
        var out: [Int32] = []
        let ascending = (0..<100).map { Float($0) }
        ascending.withUnsafeBufferPointer { topK.select(3, of: 100, scores: $0.baseAddress!, into: &out) }
        XCTAssertEqual(out, [97, 98, 99])
        let flat = [Float](repeating: 1, count: 50)
        flat.withUnsafeBufferPointer { topK.select(4, of: 50, scores: $0.baseAddress!, into: &out) }
        XCTAssertEqual(out, [0, 1, 2, 3])
        flat.withUnsafeBufferPointer { topK.select(4, of: 50, scores: $0.baseAddress!, lowerIndexWins: false, into: &out) }
        XCTAssertEqual(out, [46, 47, 48, 49])
    }

    func testNaNRanksLowest() {
        var topK = TopK()
        var out: [Int32] = []
        let scores: [Float] = [.nan, 1, .nan, 0, -5]
        scores.withUnsafeBufferPointer { topK.select(3, of: 5, scores: $0.baseAddress!, into: &out) }
        XCTAssertEqual(out, [1, 3, 4])
    }

    func testTokenBudget() {
        XCTAssertEqual(TokenBudget(fraction: 0.1).count(at: 9), 1)      // sequence of 10
        XCTAssertEqual(TokenBudget(fraction: 0.1).count(at: 10), 2)     // 1.1 rounds up
        XCTAssertEqual(TokenBudget(fraction: 0.1).count(at: 2), 1)      // never 0 for a nonzero fraction
        XCTAssertEqual(TokenBudget(fraction: 0).count(at: 50), 0)
        XCTAssertEqual(TokenBudget(fraction: 0.1).count(at: 29), 3)     // 0.1 * 30 is 3.0000000000000004
        XCTAssertEqual(TokenBudget(fraction: 1).count(at: 5), 5)        // never more than the cache
        XCTAssertEqual(TokenBudget(fraction: 0.5, tokens: 7).count(at: 100), 7)
        XCTAssertEqual(TokenBudget(fraction: 0.5, tokens: 7).count(at: 3), 3)
    }
}
