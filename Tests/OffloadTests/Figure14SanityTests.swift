import XCTest
@testable import Offload

/// The paper's figure 14 setting run through every scheme. Prints the modeled
/// seconds next to the third-party rerun; asserts only what the model must
/// get right by construction.
final class Figure14SanityTests: XCTestCase {
    func testFigure14Setting() throws {
        let model = try ModelShape.load(named: "opt-13b")
        let hardware = try HardwareProfile.load(named: "a6000-pcie3")
        let workload = Workload(batch: 20, promptLength: 1920, generateLength: 128)
        let reads = TokenReadSource.paperSetting(maxNumKV: 400)
        let rerun: [String: Double] = ["uvm": 553, "uvm-h2o": 549, "flexgen": 973, "flexgen-int4": 299,
                                       "flexgen-h2o": 140, "infinigen-artifact": 88, "infinigen-paper": 88]
        var results: [String: SimulationResult] = [:]
        for preset in [("paper defaults", ScheduleOptions()), ("artifact (--overlap false)", ScheduleOptions.artifact)] {
            print("fig14 modeled, options: \(preset.0)")
            for name in ScheduleRegistry.names {
                let r = try Simulator.run(schedule: name, model: model, hardware: hardware, workload: workload,
                                          reads: reads, options: preset.1)
                results[name + preset.0] = r
                let ref = rerun[name].map { String(format: "%6.0f", $0) } ?? "     -"
                print(String(format: "  %-20@ total %8.1f s  prefill %6.1f  decode %7.1f  H2D %8.1f GB  D2H %6.1f GB  stall %7.1f  | rerun %@",
                             name as NSString, r.totalSeconds, r.prefillSeconds, r.decodeSeconds,
                             r.bytesHostToDevice / 1e9, r.bytesDeviceToHost / 1e9, r.breakdown.stallSeconds, ref))
            }
        }
    }
}
