import Foundation
import XCTest
import Report
@testable import Experiments

/// The speed figures' specs: well-formed configurations in every profile, a real fig14
/// run through the runner, and comparisons that follow from the modeled totals.
final class SpeedSpecTests: XCTestCase {
    static let modeledSpecs: [any ExperimentSpec] = [
        SpeedFig14Spec(), SpeedWhatIfSpec(), SpeedFig15Spec(), SpeedFig16aSpec(), SpeedFig16bSpec(), SpeedFig17Spec(),
    ]

    func testEveryConfigurationIsAValidSpeedPoint() throws {
        try forEachConfiguration(of: Self.modeledSpecs) { spec, profile, c in
            let point = try SpeedPoint(c)
            XCTAssertNoThrow(try point.check(), "\(spec.id) \(profile) \(c)")
            // Round trip: the point spells out every key it reads.
            XCTAssertEqual(try SpeedPoint(point.configuration), point)
        }
    }

    func testSweepsCoverThePapersSettings() throws {
        let fig14 = try SpeedFig14Spec().configurations(profile: .quick).map(SpeedPoint.init)
        XCTAssertTrue(fig14.allSatisfy { $0.model == "opt-13b" && $0.batch == 20 && $0.prompt == 1920 && $0.generate == 128
                                         && $0.hardware == "a6000-pcie3" && $0.maxKV == 400 })
        XCTAssertEqual(Set(fig14.map(\.scheme)), Set(SpeedSchemes.all.map(\.schedule)))

        let fig15 = try SpeedFig15Spec().configurations(profile: .default).map(SpeedPoint.init)
        XCTAssertEqual(Set(fig15.map(\.batch)), [4, 8, 12, 16, 20])
        XCTAssertTrue(fig15.allSatisfy { $0.maxKV == 409 })

        let fig16a = try SpeedFig16aSpec().configurations(profile: .default).map(SpeedPoint.init)
        XCTAssertEqual(Set(fig16a.map(\.prompt)), [384, 896, 1408, 1920])
        XCTAssertTrue(fig16a.allSatisfy { $0.batch == 8 && $0.maxKV == ($0.prompt + 128) / 5 })

        let fig16b = try SpeedFig16bSpec().configurations(profile: .default).map(SpeedPoint.init)
        XCTAssertEqual(Set(fig16b.map(\.model)), ["opt-6.7b", "opt-13b", "opt-30b"])
        XCTAssertTrue(fig16b.allSatisfy { $0.batch == 4 && $0.maxKV == 409 })

        let whatif = try SpeedWhatIfSpec().configurations(profile: .quick).map(SpeedPoint.init)
        XCTAssertEqual(Set(whatif.map(\.hardware)), ["a6000-pcie3", "a100-80gb-pcie4", "h100-pcie5", "gh200-nvlink-c2c"])
    }

    /// fig17's alpha points ask for exactly the measurements speculation-counts makes in the
    /// same profile, so one invocation measures each alpha once.
    func testFig17AlphaSweepSharesTheSpeculationCountsMeasurements() throws {
        for profile in RunProfile.allCases {
            let counts = SpeedSpeculationCountsSpec().configurations(profile: profile)
            XCTAssertFalse(counts.isEmpty)
            for c in counts {
                XCTAssertGreaterThan(try c.int("tokens"), try c.int("policy_start"))
                XCTAssertTrue((1...9).contains(try c.int("alpha")))
            }
            func key(_ c: Configuration, _ prefix: String) throws -> String {
                "\(try c.string(prefix + "text"))/\(try c.int(prefix + "tokens"))/\(try c.int(prefix + "policy_start"))/\(try c.int("alpha"))"
            }
            let measured = Set(try counts.map { try key($0, "") })
            let alphaPoints = SpeedFig17Spec().configurations(profile: profile).filter { $0["sweep"] == "alpha" }
            XCTAssertEqual(Set(try alphaPoints.map { try key($0, "count_") }), measured, "\(profile)")
            let ratios = SpeedFig17Spec().configurations(profile: profile).filter { $0["sweep"] == "ratio" }
            XCTAssertEqual(Set(try ratios.map { try SpeedPoint($0).partialRatio }), [0.1, 0.2, 0.4, 0.6, 0.8, 1.0])
            XCTAssertTrue(try ratios.allSatisfy { try SpeedPoint($0).fraction == nil }, "ratio sweep holds the count at the cap")
        }
    }

    func testFig14QuickRunThroughTheRunner() async throws {
        let dir = try temporaryDirectory()
        let registry = ExperimentRegistry()
        try registry.register(SpeedFig14Spec())
        try await makeRunner(registry, root: dir, profile: .quick, render: false).reproduce()
        let artifact = try ExperimentArtifact.load(dir.appendingPathComponent("artifacts/fig14.json"))
        let results = artifact.results.filter { $0.point?.options == "paper" }
        let schemes = Set(results.compactMap { $0.point?.scheme })
        XCTAssertGreaterThanOrEqual(schemes.count, 6)

        for r in artifact.results {
            let total = try XCTUnwrap(r.record.double("total_s"))
            let prefill = try XCTUnwrap(r.record.double("prefill_s")), decode = try XCTUnwrap(r.record.double("decode_s"))
            XCTAssertGreaterThan(prefill, 0)
            XCTAssertGreaterThan(decode, 0)
            XCTAssertEqual(prefill + decode, total, accuracy: 1e-9 * total, "\(r.configuration)")
            // Every value is modeled and the profile is named.
            XCTAssertTrue(r.record.values.allSatisfy { $0.origin == .modeled })
            XCTAssertEqual(r.record.value("profile"), .string("a6000-pcie3"))
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("figures/fig14.gp").path))
        XCTAssertTrue(artifact.figures.contains("fig14"))

        // Speedup comparisons are ratios of the modeled totals.
        func total(_ s: SpeedScheme) throws -> Double {
            try XCTUnwrap(results.first { $0.point?.scheme == s.schedule }?.record.double("total_s"), s.schedule)
        }
        let ours = try total(SpeedSchemes.infinigen)
        for baseline in SpeedSchemes.baselines {
            let c = try XCTUnwrap(artifact.comparisons.first { $0.quantity == "InfiniGen speedup over \(baseline.label)" })
            XCTAssertEqual(c.ours, NumberText.short(try total(baseline) / ours))
            XCTAssertEqual(c.origin, .modeled)
            XCTAssertNotNil(c.paper)
        }
        let claim = try XCTUnwrap(artifact.comparisons.first { $0.quantity == SpeedFig14Spec.claimQuantity })
        XCTAssertEqual(claim.paper, "3")
        XCTAssertEqual(claim.ours, NumberText.short(try SpeedSchemes.kvManagement.map { try total($0) / ours }.max()!))
        let uvm = try XCTUnwrap(artifact.comparisons.first { $0.quantity == "total latency, UVM" })
        XCTAssertEqual(uvm.paper, "553")
        XCTAssertEqual(uvm.ours, NumberText.short(try total(SpeedSchemes.uvm)))
        XCTAssertTrue(artifact.text.contains("modeled"))
    }

    /// Bad configurations fail with a message naming what is wrong, not a crash.
    func testBadPointsFailClearly() throws {
        var p = SpeedPoint(scheme: "flexgen", batch: 4, maxKV: 409)
        p.scheme = "warp-drive"
        XCTAssertThrowsError(try p.check()) { XCTAssertTrue("\($0)".contains("unknown scheme")) }
        XCTAssertThrowsError(try p.simulate()) { XCTAssertTrue("\($0)".contains("warp-drive")) }
        p = SpeedPoint(scheme: "flexgen", hardware: "abacus", batch: 4, maxKV: 409)
        XCTAssertThrowsError(try p.simulate()) { XCTAssertTrue("\($0)".contains("abacus")) }
        p = SpeedPoint(scheme: "flexgen", batch: 4, maxKV: 409, options: "turbo")
        XCTAssertThrowsError(try p.simulate()) { XCTAssertTrue("\($0)".contains("turbo")) }
        XCTAssertThrowsError(try SpeedPoint(["scheme": "flexgen"])) { XCTAssertTrue("\($0)".contains("missing")) }
    }

    /// The selected share grows with alpha (a larger margin below the row max admits more
    /// tokens). Runs the real model (`make test` fetches it first).
    func testSpeculationCountsGrowWithAlpha() async throws {
        let context = RunContext(experimentID: "speculation-counts", profile: .quick)
        let setting = SpeculationCounts.Setting(text: "wiki", tokens: 256, policyStart: 128, alphas: [])
        let low = try await SpeculationCounts.measure(alpha: 1, setting: setting, context: context)
        let high = try await SpeculationCounts.measure(alpha: 8, setting: setting, context: context)
        XCTAssertGreaterThan(low.meanFraction, 0)
        XCTAssertLessThanOrEqual(high.meanFraction, 1)
        XCTAssertGreaterThanOrEqual(high.meanFraction, low.meanFraction)
        XCTAssertEqual(low.layerFractions.count, low.layers.count)
        XCTAssertTrue(low.layers.allSatisfy { $0 >= SpeculationCounts.spare })
    }
}
