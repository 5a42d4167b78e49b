import Foundation
import XCTest
import Report
@testable import Experiments

final class GoldenTests: XCTestCase {
    func testVerifyPassesThenReportsAChangedNumberAndAHandEdit() async throws {
        let dir = try temporaryDirectory()
        let golden = dir.appendingPathComponent("tests/golden")
        let state = ToyState()
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: state))
        try registry.register(ToySpec(id: "nogolden", state: ToyState()))

        let written = try await makeRunner(registry, root: dir, only: ["toy"]).verify(goldenDirectory: golden, update: true)
        XCTAssertEqual(written.written.map(\.lastPathComponent), ["toy.json"])
        let file = golden.appendingPathComponent("toy.json")
        let loaded = try GoldenFile.load(file)
        XCTAssertEqual(loaded.values.count, 4 * 6, "value, square, parity and 3 ramp elements per configuration")
        XCTAssertNil(loaded.values.first { $0.name == "parity" }?.tolerance, "strings compare exactly")

        let pass = try await makeRunner(registry, root: dir).verify(goldenDirectory: golden)
        XCTAssertTrue(pass.passed, "\(pass.differences)")
        XCTAssertEqual(pass.checked, ["toy"])
        XCTAssertEqual(pass.skipped, ["nogolden"])
        XCTAssertNoThrow(try pass.check())
        XCTAssertEqual(state.runs, 8, "verify recomputes instead of trusting the cache")

        state.offset = 0.01
        let fail = try await makeRunner(registry, root: dir).verify(goldenDirectory: golden)
        XCTAssertFalse(fail.passed)
        XCTAssertEqual(fail.differences.count, 4)
        XCTAssertEqual(fail.differences[1], "toy label=p,2 n=2 scale=0.5 value: golden 1.0 got 1.01 (tol abs 1e-09, rel 1e-09)")
        XCTAssertThrowsError(try fail.check()) { XCTAssertEqual("\($0)", "verify: 4 values differ from the golden files") }

        // A change inside the tolerance (modeled values: abs 1e-9 + rel 1e-9) passes.
        state.offset = 1e-10
        let within = try await makeRunner(registry, root: dir).verify(goldenDirectory: golden)
        XCTAssertTrue(within.passed, "\(within.differences)")
        state.offset = 0

        // A hand edit: change one number but keep the old checksum.
        let text = try String(contentsOf: file, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "\"value\": 1.0\n", with: "\"value\": 1.01\n")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try String(contentsOf: file, encoding: .utf8), text, "the edit happened")
        do {
            _ = try await makeRunner(registry, root: dir).verify(goldenDirectory: golden)
            XCTFail("a hand-edited golden file must be rejected")
        } catch {
            XCTAssertEqual("\(error)", "\(file.path): golden file edited by hand: regenerate with `make golden`")
        }
    }

    func testMissingAndExtraValuesAreReported() {
        let c: Configuration = ["n": 1]
        let golden = GoldenFile(experiment: "fig4", profile: .quick, values: [
            .init(configuration: c, name: "cos", value: .double(0.9812), tolerance: Tolerance(absolute: 0.005)),
            .init(configuration: c, name: "gone", value: .int(3), tolerance: Tolerance(absolute: 0)),
        ])
        let run = GoldenFile(experiment: "fig4", profile: .quick, values: [
            .init(configuration: c, name: "cos", value: .double(0.9534), tolerance: Tolerance(absolute: 0.005)),
            .init(configuration: c, name: "new", value: .string("x"), tolerance: nil),
        ])
        XCTAssertEqual(golden.differences(from: run), [
            "fig4 n=1 cos: golden 0.9812 got 0.9534 (tol 0.005)",
            "fig4 n=1 gone: golden 3, missing from this run",
            "fig4 n=1 new: got x, not in the golden file (regenerate with `make golden`)",
        ])
        XCTAssertEqual(golden.differences(from: golden), [])
    }

    func testToleranceExcludesValuesTheSpecLeavesOut() {
        var record = ResultRecord()
        record.add("latency_wall", 1.23, .measured, unit: "s")
        record.add("accuracy", 0.5, .measured)
        let file = GoldenFile(experiment: "x", profile: .quick,
                              results: [ExperimentResult(configuration: [:], record: record)],
                              tolerance: { name, _ in name.hasSuffix("_wall") ? nil : Tolerance(absolute: 0.01) })
        XCTAssertEqual(file.values.map(\.name), ["accuracy"])
    }

    func testNoGoldenFilesIsAnError() async throws {
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: ToyState()))
        let dir = try temporaryDirectory()
        do {
            _ = try await makeRunner(registry, root: dir).verify(goldenDirectory: dir.appendingPathComponent("none"))
            XCTFail()
        } catch {
            XCTAssertTrue("\(error)".contains("no golden files"), "\(error)")
        }
    }
}
