import XCTest
@testable import Model
@testable import Policies

final class StreamingTests: XCTestCase {
    func testSinksAndRecentWindow() {
        // The sinks count inside the budget: 7 = 4 sinks + a window of 3.
        XCTAssertEqual(StreamingPolicy.positions(at: 20, sinks: 4, budget: 7), [0, 1, 2, 3, 17, 18, 19])
        XCTAssertNil(StreamingPolicy.positions(at: 7, sinks: 4, budget: 7), "sinks and window cover everything")
        XCTAssertEqual(StreamingPolicy.positions(at: 3, sinks: 4, budget: 0), [])
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 0, budget: 2), [7, 8])
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 2, budget: 2), [0, 1], "no window left")
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 4, budget: 2), [0, 1], "the budget caps the sinks too")
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 0, budget: 0), [])
        for t in 0..<60 {
            for (sinks, budget) in [(4, 7), (0, 5), (4, 2), (10, 12)] {
                let n = StreamingPolicy.positions(at: t, sinks: sinks, budget: budget)?.count ?? t
                XCTAssertEqual(n, min(t, budget), "t \(t) sinks \(sinks) budget \(budget): the sinks are inside the budget")
            }
        }
    }

    func testPolicyUsesTheSequenceFraction() throws {
        let model = Tiny.model()
        let policy = try Run.policy("streaming:sinks=2,budget=0.25", model)
        let selection = Selection(kvHeads: 2)
        let q = [Float](repeating: 0, count: model.config.qDim)
        q.withUnsafeBufferPointer { policy.select(layer: 2, position: 19, queries: $0.baseAddress!, selection: selection) }
        // Sequence of 20: budget of 5, 2 of them sinks.
        XCTAssertEqual(selection.positions[0], [0, 1, 16, 17, 18])
        XCTAssertEqual(selection.positions[1], selection.positions[0])
        let absolute = try Run.policy("streaming:sinks=1,budget-tokens=3", model)
        q.withUnsafeBufferPointer { absolute.select(layer: 2, position: 100, queries: $0.baseAddress!, selection: selection) }
        XCTAssertEqual(selection.positions[0], [0, 98, 99])
    }
}
