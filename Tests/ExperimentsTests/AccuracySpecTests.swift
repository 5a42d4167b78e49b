import Foundation
import XCTest
import Evaluation
@testable import Policies
import Report
@testable import Experiments

/// The accuracy experiments' specs: well-formed configurations in every profile, runs that
/// the specs share really share one canonical policy, the small helpers, and one quick
/// spec through the runner on the real model.
final class AccuracySpecTests: XCTestCase {
    static let specs: [any ExperimentSpec] = [
        PolicyQualitySpec(), Fig12Spec(), Table2Spec(), Fig4Spec(), SpeculationQualitySpec(),
    ]

    func testEveryConfigurationIsWellFormed() throws {
        try forEachConfiguration(of: Self.specs) { spec, profile, c in
            if c["kind"] == "calibration" { return }
            XCTAssertNoThrow(try PolicyRegistry.parse(try c.string("policy")), "\(spec.id) \(profile) \(c)")
            XCTAssertTrue(Corpus.names.contains(try c.string("text")), "\(spec.id) \(c)")
            let tokens = try c.int("tokens")
            XCTAssertTrue(profile == .quick ? tokens <= 512 : tokens >= 1024, "\(spec.id) \(profile) \(c)")
        }
    }

    func testSettingsFollowTheBrief() throws {
        func policies(_ spec: any ExperimentSpec, _ profile: RunProfile) throws -> [String: String] {
            var d: [String: String] = [:]
            for c in spec.configurations(profile: profile) where c["kind"] != "calibration" {
                let key = (try? c.string("method")) ?? (try? c.string("variant")) ?? "\(c)"
                d[key] = try PolicyRegistry.canonical(try c.string("policy"))
            }
            return d
        }
        // policy-quality: the 20% budget per method.
        let pq = try policies(PolicyQualitySpec(), .default)
        XCTAssertTrue(pq["h2o"]!.contains("heavy=0.1,recent=0.1"))
        XCTAssertTrue(pq["streaming"]!.contains("budget=0.2"))
        XCTAssertTrue(pq["quest"]!.contains("budget=0.2"))
        XCTAssertTrue(pq["oracle"]!.contains("budget=0.2"))
        XCTAssertTrue(pq["infinigen"]!.contains("alpha=5.0") && pq["infinigen"]!.contains("budget=0.2"))
        XCTAssertTrue(pq["quant2"]!.contains("bits=2") && pq["quant4"]!.contains("bits=4"))
        XCTAssertEqual(PolicyQualitySpec().configurations(profile: .default).first.map { try? $0.int("tokens") }, 2048)

        // fig12: H2O at 1.875% of 2048 tokens = 19 + 19; 256-token chunks; quick 512 / 128.
        XCTAssertEqual(Fig12Spec.h2oTokens(window: 2048), 19)
        let f12 = try policies(Fig12Spec(), .default)
        XCTAssertTrue(f12["h2o"]!.contains("heavy-tokens=19,recent-tokens=19"))
        XCTAssertTrue(Fig12Spec().configurations(profile: .quick).allSatisfy { $0["tokens"] == 512 && $0["chunk"] == 128 })
        XCTAssertTrue(Fig12Spec().configurations(profile: .default).allSatisfy { $0["tokens"] == 2048 && $0["chunk"] == 256 })

        // Runs meant to be shared within one invocation have the same canonical policy.
        XCTAssertEqual(f12["infinigen"], pq["infinigen"])
        XCTAssertEqual(f12["full"], pq["full"])
        let t2 = Table2Spec().configurations(profile: .default)
        let full = try XCTUnwrap(t2.first { $0["pool"] == .double(1) })
        XCTAssertEqual(try PolicyRegistry.canonical(try full.string("policy")), pq["infinigen"])
        XCTAssertEqual(Set(t2.compactMap { try? $0.string("text") }), [AccuracyTexts.wiki, AccuracyTexts.novel])
        XCTAssertEqual(Set(t2.compactMap { try? $0.string("eviction") }), ["fifo", "lru", "counter"])
        XCTAssertEqual(try policies(SpeculationQualitySpec(), .quick)["sum-skew"], pq["infinigen"])

        // fig4: k = 200 over 2000 tokens, H2O 100 + 100; every layer selects.
        let f4 = try policies(Fig4Spec(), .default)
        XCTAssertTrue(f4["optimal"]!.contains("k=200") && f4["optimal"]!.hasSuffix("spare=0"))
        XCTAssertTrue(f4["h2o"]!.contains("heavy-tokens=100,recent-tokens=100") && f4["h2o"]!.hasSuffix("spare=0"))

        // speculation-quality: every column variant with and without skewing.
        let sq = try policies(SpeculationQualitySpec(), .default)
        for columns in ["sum", "query", "union"] {
            XCTAssertTrue(sq["\(columns)-skew"]!.contains("columns=\(columns),skew=true"))
            XCTAssertTrue(sq["\(columns)-noskew"]!.contains("columns=\(columns),skew=false"))
        }
    }

    func testChunkPerplexity() {
        let positions = Array(0..<7)
        let nll = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0]
        let c = Fig12Spec.chunks(positions: positions, nll: nll, chunk: 2)
        XCTAssertEqual(c.x, [2, 4, 6, 8])
        XCTAssertEqual(c.y[0], exp(1), accuracy: 1e-12)
        XCTAssertEqual(c.y[3], exp(4), accuracy: 1e-12, "a short last chunk is its own mean")
    }

    func testColumnShares() {
        XCTAssertEqual(SpeculationQualitySpec.topShare([1, 1, 1, 1, 1], fraction: 0.2), 0.2, accuracy: 1e-12)
        XCTAssertEqual(SpeculationQualitySpec.topShare([0, 0, 9, 1, 0], fraction: 0.2), 0.9, accuracy: 1e-12)
        XCTAssertEqual(SpeculationQualitySpec.profile([1, 4, 2]), [1, 0.5, 0.25])
    }

    func testCapStatistics() {
        var settings = try! InfiniGenSettings(PolicyRegistry.parse("infinigen:budget=0.5").values, layers: 30)
        settings.maxKV = 0
        var a = InfiniGenStepStats(position: 10)
        // cap ceil(0.5 · 11) = 6 (the shared budget rule): 7 binds.
        a.layers = [InfiniGenLayerStep(layer: 2, thresholdCount: 7, selected: [6], resident: [10]),
                    InfiniGenLayerStep(layer: 3, thresholdCount: 2, selected: [2], resident: [10])]
        let (bound, share) = AccuracyRuns.capStatistics([InfiniGenStepStats(position: 0), a], settings: settings)
        XCTAssertEqual(bound, 0.5)
        XCTAssertEqual(share, (0.7 + 0.2) / 2, accuracy: 1e-12)
    }

    func testGoldenFilesLeaveOutTimesAndLongSeries() {
        XCTAssertNil(PolicyQualitySpec().goldenTolerance(for: "seconds", origin: .measured))
        XCTAssertNil(PolicyQualitySpec().goldenTolerance(for: "layer_recall", origin: .measured))
        XCTAssertNotNil(PolicyQualitySpec().goldenTolerance(for: "kl_vs_full", origin: .measured))
        XCTAssertNotNil(Fig4Spec().goldenTolerance(for: "layer_cosine", origin: .measured))
        XCTAssertNil(SpeculationQualitySpec().goldenTolerance(for: "calibration_seconds", origin: .measured))
        XCTAssertNil(Fig12Spec().goldenTolerance(for: "chunk_perplexity_full", origin: .measured))
    }

    /// fig4's quick profile (two probe runs of 256 tokens) through the runner on the real
    /// model: CSV, artifact JSON and the gnuplot script, every number measured.
    func testFig4QuickRunThroughTheRunner() async throws {
        let dir = try temporaryDirectory()
        let registry = ExperimentRegistry()
        try registry.register(Fig4Spec())
        try await makeRunner(registry, root: dir, profile: .quick, render: false).reproduce()
        for file in ["artifacts/fig4.csv", "artifacts/fig4.json", "figures/fig4.gp", "figures/fig4.dat"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "missing \(file)")
        }
        let artifact = try ExperimentArtifact.load(dir.appendingPathComponent("artifacts/fig4.json"))
        XCTAssertEqual(artifact.results.count, 2)
        for r in artifact.results {
            XCTAssertTrue(r.record.values.allSatisfy { $0.origin == .measured })
            let cos = try XCTUnwrap(r.record.series("layer_cosine"))
            XCTAssertEqual(cos.y.count, 30)
            XCTAssertTrue(cos.y.allSatisfy { $0 > 0 && $0 <= 1 + 1e-6 }, "\(cos.y)")
            let mass = try XCTUnwrap(r.record.double("attention_mass"))
            XCTAssertTrue(mass > 0 && mass < 1, "k = 32 of up to 255 tokens cannot hold all the mass")
        }
        XCTAssertTrue(artifact.text.contains("k = 32"))
        XCTAssertTrue(artifact.figures.contains("fig4"))
        let csv = try String(contentsOf: dir.appendingPathComponent("artifacts/fig4.csv"), encoding: .utf8)
        XCTAssertTrue(csv.contains("output_cosine"))
    }
}
