import Foundation
import XCTest
import Evaluation
import Model
import Numerics
import Offload
import Policies
import Report
import TestSupport
@testable import Experiments

/// The compare-sim path on the real model (skipped when the asset is missing): small runs
/// of every two-tier policy, a quick engine-calibrated profile, and the simulator's
/// numbers for each.
final class OffloadRunComparisonTests: XCTestCase {
    func testCompareSimProducesNumbersForEveryPolicy() throws {
        let model = try RealModel.model()
        let c = model.config
        let settings = OffloadRun.Settings(prompt: 40, generate: 4)
        let tokens = SplitMix64.tokens(OffloadRun.textTokensNeeded(settings), seed: 5)
        let context = MethodContext(calibrationTokens: { SplitMix64.tokens(256, seed: 11) })
        let wanted = ["full", "flexgen", "h2o", "streaming", "quest", "oracle", "infinigen"]
        let specs = wanted.filter(PolicyRegistry.names.contains)
        XCTAssertTrue(specs.contains("full") && specs.contains("flexgen"))
        let methods = try specs.map { (spec: $0, method: try PolicyRegistry.make($0, model: model, context: context)) }
        let runs = try OffloadRun.runAll(model: model, methods: methods, textTokens: tokens, text: "seeded", settings: settings)

        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("nested/this-machine.json")
        let profile = try OffloadRunSimulation.machineProfile(at: url, remeasure: false, model: model,
                                                              engineSettings: .quick, machineSettings: .quick)
        XCTAssertTrue(profile.engineCalibrated)
        XCTAssertEqual(try HardwareProfile.load(from: url), profile, "written, and read back as written")
        XCTAssertNotNil(profile.sources["device_weight_stream_gb_per_s"])

        let shape = try OffloadRunSimulation.shape(model: model)
        XCTAssertEqual(shape.weightBytesPerElement ?? 0, 20.0 / 32, accuracy: 1e-12, "Q4_1 layers")
        XCTAssertEqual(shape.kvBytesPerElement, 4)

        let comparison = try OffloadRunComparison(runs: runs, hardware: profile, shape: shape)
        XCTAssertEqual(comparison.rows.map(\.policy), specs, "short labels: the method names are distinct")
        XCTAssertEqual(OffloadRunComparison.labels(["h2o:heavy=0.1", "h2o:heavy=0.2"]), ["h2o:heavy=0.1", "h2o:heavy=0.2"])
        let expected = ["full": "flexgen", "flexgen": "flexgen", "h2o": "flexgen-h2o", "streaming": "flexgen-h2o",
                        "quest": "flexgen-h2o", "oracle": "flexgen-h2o", "infinigen": "infinigen-paper"]
        for (row, name) in zip(comparison.rows, specs) {
            XCTAssertEqual(row.schedule, expected[name], name)
            for v in [row.measuredStepSeconds, row.measuredCPUClockStepSeconds, row.modeledStepSeconds, row.modeledComputeSeconds, row.measuredBytesPerStep,
                      row.modeledBytesPerStep] {
                XCTAssertTrue(v.isFinite && v > 0, "\(name): \(row)")
            }
            XCTAssertTrue(row.relativeError.isFinite)
        }
        // Every row crosses under flexgen: the simulator moves what the run copied.
        let flexgen = comparison.rows[specs.firstIndex(of: "flexgen")!]
        let cachedMean = Double(settings.prompt) + Double(settings.generate - 1) / 2
        XCTAssertEqual(flexgen.measuredBytesPerStep, cachedMean * Double(c.layers * c.kvHeads * 2 * c.headDim * 4), accuracy: 1e-6)
        XCTAssertEqual(flexgen.modeledBytesPerStep, flexgen.measuredBytesPerStep, accuracy: 1e-6 * flexgen.measuredBytesPerStep)

        XCTAssertFalse(comparison.verdict.isEmpty)
        let text = OffloadRunReport.text(runs, comparison: comparison)
        XCTAssertTrue(text.contains("modeled") && text.contains("measured on"))
        let json = try JSONValue.parse(OffloadRunReport.json(runs, comparison: comparison))
        XCTAssertEqual(json["runs"]?.arrayValue?.count, specs.count)
        XCTAssertNotNil(json["verdict"]?.stringValue)

        // An existing calibrated profile is reused as it is.
        XCTAssertEqual(try OffloadRunSimulation.machineProfile(at: url, remeasure: false, model: model), profile)
    }

    func testRankingTreatsClosePredictionsAsTies() {
        func row(_ p: String, measured: Double, modeled: Double) -> OffloadRunComparison.Row {
            .init(policy: p, schedule: "s", reason: "", measuredStepSeconds: measured, measuredCPUClockStepSeconds: measured / 2,
                  measuredComputeSeconds: measured,
                  measuredStallSeconds: 0, measuredBytesPerStep: 1, modeledStepSeconds: modeled,
                  modeledComputeSeconds: modeled, modeledStallSeconds: 0, modeledBytesPerStep: 1)
        }
        let tie = OffloadRunComparison(rows: [row("a", measured: 1.00, modeled: 1.00), row("b", measured: 0.98, modeled: 1.02),
                                              row("c", measured: 0.50, modeled: 0.55)], hardware: "h", machine: "m")
        XCTAssertTrue(tie.rankingAgrees(), "a and b are predicted 2% apart: a tie")
        XCTAssertTrue(tie.withinTolerance())
        XCTAssertTrue(tie.holds)
        XCTAssertFalse(tie.withinTolerance(.cpu), "the CPU clock says half the time")
        XCTAssertTrue(tie.rankingAgrees(.cpu))
        XCTAssertEqual(tie.modeledRanking, ["c", "a", "b"])
        let close = OffloadRunComparison(rows: [row("d", measured: 1.0, modeled: 1.0), row("e", measured: 0.97, modeled: 1.3)],
                                         hardware: "h", machine: "m")
        XCTAssertTrue(close.rankingAgrees(), "measured 3% apart: a tie, whatever the model says")
        let wrong = OffloadRunComparison(rows: [row("a", measured: 1.0, modeled: 1.0), row("c", measured: 0.5, modeled: 1.5)],
                                         hardware: "h", machine: "m")
        XCTAssertFalse(wrong.rankingAgrees())
        XCTAssertFalse(wrong.withinTolerance())
        XCTAssertFalse(wrong.holds)
        XCTAssertTrue(wrong.verdict.contains("FAILS for c +200.0%"), wrong.verdict)
    }
}
