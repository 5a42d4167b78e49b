import XCTest
@testable import Model
@testable import Policies

final class StreamingTests: XCTestCase {
    func testSinksAndRecentWindow() {
        XCTAssertEqual(StreamingPolicy.positions(at: 20, sinks: 4, recent: 3), [0, 1, 2, 3, 17, 18, 19])
        XCTAssertNil(StreamingPolicy.positions(at: 7, sinks: 4, recent: 3), "sinks and window cover everything")
        XCTAssertNil(StreamingPolicy.positions(at: 3, sinks: 4, recent: 0))
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 0, recent: 2), [7, 8])
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 2, recent: 0), [0, 1])
        XCTAssertEqual(StreamingPolicy.positions(at: 9, sinks: 0, recent: 0), [])
    }

    func testPolicyUsesTheSequenceFraction() throws {
        let model = Tiny.model()
        let policy = try Run.policy("streaming:sinks=2,recent=0.25", model)
        let selection = Selection(kvHeads: 2)
        let q = [Float](repeating: 0, count: model.config.qDim)
        q.withUnsafeBufferPointer { policy.select(layer: 2, position: 19, queries: $0.baseAddress!, selection: selection) }
        // Sequence of 20: window of 5.
        XCTAssertEqual(selection.positions[0], [0, 1, 14, 15, 16, 17, 18])
        XCTAssertEqual(selection.positions[1], selection.positions[0])
        let absolute = try Run.policy("streaming:sinks=1,recent-tokens=2", model)
        q.withUnsafeBufferPointer { absolute.select(layer: 2, position: 100, queries: $0.baseAddress!, selection: selection) }
        XCTAssertEqual(selection.positions[0], [0, 98, 99])
    }
}
