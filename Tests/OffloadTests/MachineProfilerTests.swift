import XCTest
@testable import Offload

final class MachineProfilerTests: XCTestCase {
    func testQuickProfileMeasuresThisMachineAndWritesAValidProfile() throws {
        let profiler = MachineProfiler(settings: .quick)
        let m = profiler.measure()
        XCTAssertGreaterThan(m.memcpyOneThreadBytesPerSecond, 1e8)
        XCTAssertGreaterThan(m.memcpyAllThreadsBytesPerSecond, 1e8)
        XCTAssertEqual(Set(m.gatherOneThreadBytesPerSecond.keys), ["128", "256", "576", "1152"])
        XCTAssertTrue(m.gatherOneThreadBytesPerSecond.values.allSatisfy { $0 > 1e7 })
        XCTAssertGreaterThan(m.sgemmGFLOPS["128x144x384"] ?? 0, 0.1)
        XCTAssertGreaterThan(m.sgemvBytesPerSecond, 1e8)
        XCTAssertGreaterThan(m.handoffMicroseconds, 0)
        XCTAssertLessThan(m.handoffMicroseconds, 10_000)

        let p = profiler.profile(from: m)
        XCTAssertEqual(p.name, "this-machine")
        XCTAssertNoThrow(try p.validate(file: "this-machine.json"))
        XCTAssertEqual(p.h2dPinnedGBps, m.gatherOneThreadBytesPerSecond["256"]! / 1e9, accuracy: 1e-12,
                       "the link is the prefetch thread's gather")
        XCTAssertEqual(p.deviceFP16TensorTFLOPS, (m.sgemmGFLOPS.values.max() ?? 0) / 1000, accuracy: 1e-12)

        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("this-machine.json")
        try p.write(to: url)
        XCTAssertEqual(try HardwareProfile.load(from: url), p)
        // The profile drives the simulator like any other.
        let r = try Simulator.run(schedule: "infinigen-paper", model: ModelShape.load(named: "smollm2-135m"), hardware: p,
                                  workload: Workload(batch: 1, promptLength: 256, generateLength: 4),
                                  reads: .paperSetting(maxNumKV: 64))
        XCTAssertGreaterThan(r.totalSeconds, 0)
    }
}
