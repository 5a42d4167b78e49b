import XCTest
@testable import Model
@testable import Policies

/// H2O driven by hand: one layer, one KV head shared by two query heads.
final class H2OTests: XCTestCase {
    private let config = LlamaConfig(vocabSize: 8, hiddenSize: 4, layers: 1, heads: 2, kvHeads: 1, headDim: 4, ffnSize: 4)
    private let zeros = [Float](repeating: 0, count: 4)

    /// One position: keys, then (when managed) the selection, then the attention
    /// weights `rows` (one per query head, over the read positions, own last).
    @discardableResult
    private func step(_ policy: H2OPolicy, _ t: Int, managed: Bool, rows: [[Float]]) -> [Int32]? {
        policy.observeKeys(layer: 0, position: t, keys: zeros, values: zeros)
        let selection = Selection(kvHeads: 1)
        if managed {
            zeros.withUnsafeBufferPointer { policy.select(layer: 0, position: t, queries: $0.baseAddress!, selection: selection) }
        }
        let read = (selection.positions[0] ?? (0..<t).map { Int32($0) }) + [Int32(t)]
        guard rows.allSatisfy({ $0.count == read.count }) else {
            XCTFail("t \(t): the policy reads \(read), the test expected \(rows[0].count) positions")
            return selection.positions[0]
        }
        let flat = rows.flatMap { $0 }
        read.withUnsafeBufferPointer { p in
            policy.observeAttention(layer: 0, position: t, kvHead: 0, positions: p, weights: flat, stride: read.count)
        }
        return selection.positions[0]
    }

    func testEvictsLowestAccumulatedScoreAndNeverReadmits() {
        // heavy 2 tokens + recent 1 token.
        let policy = H2OPolicy(config: config, budget: H2OBudget(heavy: 0, recent: 0, heavyTokens: 2, recentTokens: 1),
                               firstManagedLayer: 0)
        // Weights are dyadic so that the sums below are exact.
        XCTAssertNil(step(policy, 0, managed: true, rows: [[1], [1]]))                              // s0 2
        XCTAssertNil(step(policy, 1, managed: true, rows: [[0.75, 0.25], [0.5, 0.5]]))              // 3.25, 0.75
        XCTAssertNil(step(policy, 2, managed: true, rows: [[0.125, 0.125, 0.75], [0.25, 0.25, 0.5]])) // 3.625, 1.125, 1.25
        // Older than the window: {0, 1}, within the heavy budget of 2.
        XCTAssertNil(step(policy, 3, managed: true, rows: [[0.125, 0, 0.125, 0.75], [0.125, 0, 0.125, 0.75]]))
        XCTAssertEqual(policy.score(layer: 0, kvHead: 0, position: 2), 1.5)
        XCTAssertEqual(policy.score(layer: 0, kvHead: 0, position: 3), 1.5)
        // Older: {0, 1, 2} with 3.875, 1.125, 1.5: 1 goes.
        XCTAssertEqual(step(policy, 4, managed: true, rows: [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]), [0, 2, 3])
        // Scores 0: 4.375, 2: 2, 3: 2. Older {0, 2, 3}: 2 and 3 tie, the older (2) goes.
        XCTAssertEqual(step(policy, 5, managed: true, rows: [[0, 0, 0, 1], [0, 0, 0, 1]]), [0, 3, 4])
        // 4 leaves the window with score 0.5 and is the lowest now.
        XCTAssertEqual(step(policy, 6, managed: true, rows: [[0, 0, 0, 1], [0, 0, 0, 1]]), [0, 3, 5])
        // Evicted tokens stay out, however the window moves.
        for t in 7..<12 {
            let sel = step(policy, t, managed: true, rows: [[0, 0, 0, 1], [0, 0, 0, 1]])!
            XCTAssertEqual(sel.count, 3)
            XCTAssertFalse(sel.contains(1) || sel.contains(2) || sel.contains(4))
            XCTAssertEqual(sel.last, Int32(t - 1), "the recent token is always read")
        }
    }

    /// Decode mode: the prompt reads everything and only scores; the first managed
    /// position cuts the cache to the budget in one go.
    func testPromptIsCompressedAtTheFirstManagedPosition() {
        let policy = H2OPolicy(config: config, budget: H2OBudget(heavy: 0, recent: 0, heavyTokens: 2, recentTokens: 1),
                               firstManagedLayer: 0)
        step(policy, 0, managed: false, rows: [[1], [1]])
        step(policy, 1, managed: false, rows: [[0.5, 0.5], [0.5, 0.5]])
        step(policy, 2, managed: false, rows: [[0.125, 0.75, 0.125], [0.125, 0.75, 0.125]])
        step(policy, 3, managed: false, rows: [[0.125, 0.125, 0.625, 0.125], [0.125, 0.125, 0.625, 0.125]])
        step(policy, 4, managed: false, rows: [[0.25, 0.25, 0.25, 0.125, 0.125], [0.25, 0.25, 0.25, 0.125, 0.125]])
        // Scores: 0: 3.5, 1: 3.25, 2: 1.75, 3: 0.5, 4: 0.25; window {4}; keep the best 2 of {0..3}.
        XCTAssertEqual(policy.keptPositions(layer: 0, kvHead: 0), [0, 1, 2, 3])
        XCTAssertEqual(step(policy, 5, managed: true, rows: [[0, 0, 0, 1], [0, 0, 0, 1]]), [0, 1, 4])
    }

    /// Ratio budgets follow the sequence length (rounded up); what a smaller earlier budget
    /// evicted stays evicted.
    func testRatioBudgetsGrowWithTheSequence() {
        let policy = H2OPolicy(config: config, budget: H2OBudget(heavy: 0.25, recent: 0.25), firstManagedLayer: 0)
        var sizes: [Int] = []
        for t in 0..<16 {
            policy.observeKeys(layer: 0, position: t, keys: zeros, values: zeros)
            let selection = Selection(kvHeads: 1)
            zeros.withUnsafeBufferPointer { policy.select(layer: 0, position: t, queries: $0.baseAddress!, selection: selection) }
            let read = (selection.positions[0] ?? (0..<t).map { Int32($0) })
            sizes.append(read.count)
            // One budget ceil(0.5 (t+1)); the recent window is half of it, rounded down, and
            // its cached positions are all there.
            let recent = TokenBudget(fraction: 0.5).count(at: t) / 2
            for p in (t - recent)..<t { XCTAssertTrue(read.contains(Int32(p)), "t \(t) misses recent \(p)") }
            let all = read + [Int32(t)]
            let w = [Float](repeating: 1 / Float(all.count), count: all.count)
            all.withUnsafeBufferPointer { p in policy.observeAttention(layer: 0, position: t, kvHead: 0, positions: p, weights: w + w, stride: all.count) }
        }
        // heavy + recent = ceil(0.5 (t+1)), rounded once. When the total grows by one the
        // new slot goes to the heavy hitters while the window's share rounds down, and to
        // the window when it rounds up; either way the kept set fills the whole budget at
        // once (the previous step's window token stays).
        XCTAssertEqual(sizes, [0, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8])
        XCTAssertEqual(sizes, (0..<16).map { TokenBudget(fraction: 0.5).count(at: $0) })
    }

    func testWantsWeightsAndSparesLayers() throws {
        let policy = try Run.policy("h2o:spare=3", Tiny.model())
        XCTAssertTrue(policy.wantsAttentionWeights)
        XCTAssertEqual(policy.firstManagedLayer, 3)
    }
}
