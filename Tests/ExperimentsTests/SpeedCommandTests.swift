import Foundation
import XCTest
import Report

/// `infinigen simulate` and `infinigen profile` through the built executable.
final class SpeedCommandTests: XCTestCase {
    func testSimulatePrintsAModeledBreakdown() throws {
        let exe = try PipelineEndToEndTests.executable()
        let dir = try temporaryDirectory()
        let text = try PipelineEndToEndTests.run(exe, ["simulate", "--schedule", "flexgen-int4", "--model", "opt-13b",
                                                       "--hardware", "a6000-pcie3", "--batch", "8", "--prompt", "1920",
                                                       "--generate", "128"], in: dir)
        XCTAssertEqual(text.status, 0, text.output)
        XCTAssertTrue(text.output.contains("MODELED, not measured"), text.output)
        XCTAssertTrue(text.output.contains("prefill"))
        XCTAssertTrue(text.output.contains("decode"))

        let json = try PipelineEndToEndTests.run(exe, ["simulate", "--schedule", "infinigen-paper", "--max-kv", "409",
                                                       "--batch", "8", "--json"], in: dir)
        XCTAssertEqual(json.status, 0, json.output)
        let parsed = try JSONValue.parse(json.output)
        XCTAssertEqual(parsed["modeled"], .bool(true))
        XCTAssertEqual(parsed["schedule"], .string("infinigen-paper"))
        let total = try XCTUnwrap(parsed["totalSeconds"]?.doubleValue)
        let prefill = try XCTUnwrap(parsed["prefillSeconds"]?.doubleValue)
        let decode = try XCTUnwrap(parsed["decodeSeconds"]?.doubleValue)
        XCTAssertEqual(prefill + decode, total, accuracy: 1e-9 * total)

        let list = try PipelineEndToEndTests.run(exe, ["simulate", "--list"], in: dir)
        XCTAssertEqual(list.status, 0, list.output)
        for name in ["infinigen-artifact", "uvm-h2o", "opt-30b", "gh200-nvlink-c2c"] {
            XCTAssertTrue(list.output.contains(name), name)
        }
    }

    func testSimulateRejectsBadInputInOneLine() throws {
        let exe = try PipelineEndToEndTests.executable()
        let dir = try temporaryDirectory()
        let bad = try PipelineEndToEndTests.run(exe, ["simulate", "--schedule", "warp-drive"], in: dir)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("unknown schedule 'warp-drive'"), bad.output)
        let batch = try PipelineEndToEndTests.run(exe, ["simulate", "--batch", "0"], in: dir)
        XCTAssertNotEqual(batch.status, 0)
        XCTAssertTrue(batch.output.contains("--batch"), batch.output)
        let file = try PipelineEndToEndTests.run(exe, ["simulate", "--hardware", "missing/profile.json"], in: dir)
        XCTAssertNotEqual(file.status, 0)
        XCTAssertTrue(file.output.contains("not found"), file.output)
    }

    /// A quick machine profile is written, loads back, and drives the simulator.
    func testProfileWritesAProfileTheSimulatorAccepts() throws {
        let exe = try PipelineEndToEndTests.executable()
        let dir = try temporaryDirectory()
        let r = try PipelineEndToEndTests.run(exe, ["profile", "--quick", "--out", "out/this-machine.json"], in: dir)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("memcpy"), r.output)
        let json = try JSONValue.parse(contentsOf: dir.appendingPathComponent("out/this-machine.json"))
        XCTAssertEqual(json["name"], .string("this-machine"))
        let sim = try PipelineEndToEndTests.run(exe, ["simulate", "--model", "smollm2-135m", "--hardware", "out/this-machine.json",
                                                      "--batch", "1", "--prompt", "512", "--generate", "16"], in: dir)
        XCTAssertEqual(sim.status, 0, sim.output)
        XCTAssertTrue(sim.output.contains("this-machine"), sim.output)
    }
}
