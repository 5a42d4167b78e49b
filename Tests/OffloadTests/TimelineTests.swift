import XCTest
@testable import Offload

final class TimelineTests: XCTestCase {
    func testSerializedOnOneResource() {
        var t = Timeline()
        let a = t.add("a", on: .device, duration: 2)
        let b = t.add("b", on: .device, duration: 3)
        XCTAssertEqual(t.end(of: a), 2)
        XCTAssertEqual(t.end(of: b), 5)
        XCTAssertEqual(t.makespan, 5)
    }

    func testPerfectOverlapOfIndependentResources() {
        var t = Timeline()
        t.add("load", on: .h2d, duration: 3)
        t.add("compute", on: .device, duration: 3)
        XCTAssertEqual(t.makespan, 3)
        XCTAssertEqual(t.busyTime(.h2d) + t.busyTime(.device), 6)
    }

    /// Loads of 4, computes of 1, compute i waits for load i: the link sets
    /// the pace and only the last compute sticks out: 3 x 4 + 1.
    func testTransferBoundPipeline() {
        var t = Timeline()
        for _ in 0..<3 {
            let load = t.add("load", on: .h2d, duration: 4)
            t.add("compute", on: .device, duration: 1, after: [load])
        }
        XCTAssertEqual(t.makespan, 13)
        XCTAssertEqual(t.makespan - t.busyTime(.device), 10, "device idles while the link works")
    }

    /// Loads of 1, computes of 4: only the first load is exposed: 1 + 3 x 4.
    func testComputeBoundPipeline() {
        var t = Timeline()
        for _ in 0..<3 {
            let load = t.add("load", on: .h2d, duration: 1)
            t.add("compute", on: .device, duration: 4, after: [load])
        }
        XCTAssertEqual(t.makespan, 13)
        XCTAssertEqual(t.busyTime(.device), 12)
    }

    /// A task that is ready early still waits for everything issued to its
    /// resource before it (in-order issue, no reordering).
    func testIssueOrderIsKept() {
        var t = Timeline()
        let slow = t.add("slow-load", on: .h2d, duration: 10)
        let x = t.add("x", on: .device, duration: 1, after: [slow])
        let y = t.add("y", on: .device, duration: 1)
        XCTAssertEqual(t.end(of: x), 11)
        XCTAssertEqual(t.end(of: y), 12)
    }

    func testJoinOccupiesNoResource() {
        var t = Timeline()
        let a = t.add("a", on: .h2d, duration: 2)
        let b = t.add("b", on: .d2h, duration: 5)
        let j = t.join([a, b])
        XCTAssertEqual(t.end(of: j), 5)
        let c = t.add("c", on: .h2d, duration: 1)
        XCTAssertEqual(t.end(of: c), 3, "the join did not occupy the link")
        let d = t.add("d", on: .device, duration: 1, after: [j])
        XCTAssertEqual(t.end(of: d), 6)
    }

    func testRecordedStepsFilterEntries() {
        var t = Timeline(recordedSteps: [0, 2])
        for step in 0..<4 { t.add("s\(step)", on: .device, duration: 1, step: step, layer: 0) }
        XCTAssertEqual(t.entries.map(\.step), [0, 2])
        XCTAssertEqual(t.entries.last, TimelineEntry(step: 2, layer: 0, name: "s2", resource: .device, start: 2, end: 3))
        XCTAssertEqual(t.makespan, 4, "unrecorded steps still take time")
    }
}
