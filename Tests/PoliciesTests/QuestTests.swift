import XCTest
@testable import Model
@testable import Policies

final class QuestTests: XCTestCase {
    /// The page score bounds every true dot product in the page from above.
    func testPageBoundUpperBoundsEveryKey() {
        var rng = SplitMix64(seed: 21)
        for d in [4, 8, 13, 64] {
            for _ in 0..<200 {
                let keys = (0..<16).map { _ in rng.normals(d, scale: 2) }
                let mn = (0..<d).map { c in keys.map { $0[c] }.min()! }
                let mx = (0..<d).map { c in keys.map { $0[c] }.max()! }
                let q = rng.normals(d, scale: 3)
                let bound = QuestPolicy.bound(query: q, min: mn, max: mx, count: d)
                var best = -Float.infinity
                for k in keys { best = max(best, zip(q, k).map { $0 * $1 }.reduce(0, +)) }
                XCTAssertGreaterThanOrEqual(bound, best - 1e-4 * (1 + abs(best)))
            }
        }
    }

    private let config = LlamaConfig(vocabSize: 8, hiddenSize: 8, layers: 1, heads: 2, kvHeads: 1, headDim: 8, ffnSize: 8)

    func testSelectsTheBestPagesAndAlwaysTheCurrentOne() {
        var rng = SplitMix64(seed: 4)
        let policy = QuestPolicy(config: config, page: 4, budget: TokenBudget(fraction: 0.25), firstManagedLayer: 0)
        let d = 8
        // Small random keys; one key in page 2 (positions 8..<12) points along the query.
        var q = [Float](repeating: 0, count: 2 * d)
        q[0] = 1; q[d] = 1                                   // both query heads look at channel 0
        for t in 0..<19 {
            var k = rng.normals(d, scale: 0.1)
            if t == 9 { k[0] = 5 }
            if t == 2 { k[0] = 3 }
            policy.observeKeys(layer: 0, position: t, keys: k, values: k)
        }
        let selection = Selection(kvHeads: 1)
        // t = 16: sequence of 17, budget ceil(4.25) = 5 rows: the current page (4, empty so far) + page 2.
        q.withUnsafeBufferPointer { policy.select(layer: 0, position: 16, queries: $0.baseAddress!, selection: selection) }
        XCTAssertEqual(selection.positions[0], [8, 9, 10, 11])
        // t = 18: budget ceil(0.25 · 19) = 5, the current page already holds 2: no room for a page of 4.
        q.withUnsafeBufferPointer { policy.select(layer: 0, position: 18, queries: $0.baseAddress!, selection: selection) }
        XCTAssertEqual(selection.positions[0], [16, 17])
    }

    /// Page metadata tracks the true channel-wise extremes, and the pages read are those
    /// with the highest summed bounds (recomputed here from the raw keys).
    func testMetadataAndPageRankingAgainstRawKeys() {
        var rng = SplitMix64(seed: 12)
        let d = 8, page = 4, config2 = LlamaConfig(vocabSize: 8, hiddenSize: 8, layers: 1, heads: 4, kvHeads: 2, headDim: 8, ffnSize: 8)
        let policy = QuestPolicy(config: config2, page: page, budget: TokenBudget(fraction: 0.3), firstManagedLayer: 0)
        var keys: [[Float]] = []                              // per position, both KV heads
        for t in 0..<45 {
            keys.append(rng.normals(2 * d))
            policy.observeKeys(layer: 0, position: t, keys: keys[t], values: keys[t])
        }
        let q = rng.normals(4 * d)
        let selection = Selection(kvHeads: 2)
        q.withUnsafeBufferPointer { policy.select(layer: 0, position: 44, queries: $0.baseAddress!, selection: selection) }
        for h in 0..<2 {
            var bounds: [Float] = []
            for p in 0..<11 {
                let rows = keys[(p * page)..<((p + 1) * page)].map { Array($0[(h * d)..<((h + 1) * d)]) }
                let mn = (0..<d).map { c in rows.map { $0[c] }.min()! }, mx = (0..<d).map { c in rows.map { $0[c] }.max()! }
                let stored = policy.pageBounds(layer: 0, kvHead: h, page: p)
                XCTAssertEqual(stored.min, mn)
                XCTAssertEqual(stored.max, mx)
                bounds.append((0..<2).map { j in
                    (0..<d).map { c in let qc = q[(h * 2 + j) * d + c]; return max(qc * mn[c], qc * mx[c]) }.reduce(0, +)
                }.reduce(0, +))
            }
            // Budget ceil(0.3 · 45) = 14; the current page (11) holds 44 only: (14 - 0) / 4 = 3 pages.
            let best = bounds.indices.sorted { bounds[$0] > bounds[$1] }.prefix(3).sorted()
            let expected = best.flatMap { p in (p * page)..<((p + 1) * page) }.map { Int32($0) }
            XCTAssertEqual(selection.positions[h], expected, "head \(h)")
        }
    }

    func testBudgetInPagesAndReadAll() {
        var rng = SplitMix64(seed: 8)
        let policy = QuestPolicy(config: config, page: 2, budget: TokenBudget(fraction: 0.5), firstManagedLayer: 0)
        let d = 8
        for t in 0..<41 { policy.observeKeys(layer: 0, position: t, keys: rng.normals(d), values: rng.normals(d)) }
        let q = rng.normals(2 * d)
        let selection = Selection(kvHeads: 1)
        // t = 40: budget ceil(20.5) = 21 rows: 10 whole pages of 2, the current page is empty.
        q.withUnsafeBufferPointer { policy.select(layer: 0, position: 40, queries: $0.baseAddress!, selection: selection) }
        let sel = selection.positions[0]!
        XCTAssertEqual(sel.count, 20)
        XCTAssertEqual(sel, sel.sorted())
        for i in stride(from: 0, to: 20, by: 2) { XCTAssertEqual(sel[i] % 2, 0); XCTAssertEqual(sel[i + 1], sel[i] + 1) }
        // A budget that covers every page reads everything.
        q.withUnsafeBufferPointer { policy.select(layer: 0, position: 1, queries: $0.baseAddress!, selection: selection) }
        XCTAssertNil(selection.positions[0])
    }

    func testPageMetadataIsDeviceResident() throws {
        let policy = try Run.policy("quest:page=16,budget=0.2", Tiny.model())
        // Rows cross at fp16; the page min/max (4·64 bytes a page) stay on the device:
        // 2 managed layers x 2 KV heads x 256 / 16 bytes per cached token.
        XCTAssertEqual(policy.transfer, .rows(bytesPerRow: nil, extraBytesPerStep: 0))
        XCTAssertEqual(policy.deviceBytesPerToken, 2 * 2 * 256 / 16)
    }
}
