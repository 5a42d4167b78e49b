import Foundation
import XCTest
import Policies
import Report
@testable import Experiments

/// The claims scoreboard: each rule judged on synthetic records (so every verdict can be
/// reached and flips with the data), conditions kept apart, and the table rendered first.
final class ClaimsScoreboardTests: XCTestCase {
    private func chunkResult(_ method: String, _ y: [Double], protocolName: String? = nil, gqa: String? = nil) -> ExperimentResult {
        var c: Configuration = ["method": .string(method), "tokens": .int(2048), "text": .string("wiki")]
        if let protocolName { c["protocol"] = .string(protocolName) }
        c["policy"] = .string(method == "full" ? "full" : method + (gqa.map { ":gqa=\($0)" } ?? ""))
        var r = ResultRecord()
        r.addSeries("chunk_perplexity", y, x: y.indices.map { Double(($0 + 1) * 256) }, .measured)
        return ExperimentResult(configuration: c, record: r)
    }

    func testFig12VerdictFollowsTheChunksPerCondition() {
        let full = [10.0, 10, 10, 10]
        let results = [
            chunkResult("full", full, protocolName: "artifact"),
            chunkResult("infinigen", [10.1, 10.1, 10.1, 10.1], protocolName: "artifact"),
            chunkResult("h2o", [11, 11, 11, 11], protocolName: "artifact"),
            chunkResult("full", full),
            chunkResult("infinigen", [12, 12, 10.1, 12], gqa: "max"),
            chunkResult("h2o", [11, 11, 11, 11], gqa: "max"),
            chunkResult("infinigen", [10.5, 10.5, 10.5, 12], gqa: "per-head"),
            chunkResult("h2o", [11, 11, 11, 11], gqa: "per-head"),
        ]
        let claims = PaperClaims.evaluate(experiment: "fig12", results: results)
        XCTAssertEqual(claims.count, 3)
        func verdict(_ p: String, _ g: String?) -> ClaimVerdict? {
            claims.first { $0.protocolName == p && $0.gqa == g }?.verdict
        }
        XCTAssertEqual(verdict("artifact", nil), .holds)
        XCTAssertEqual(verdict("decode", "max"), .doesNotHold)     // 1 of 4 chunks
        XCTAssertEqual(verdict("decode", "per-head"), .partly)     // 3 of 4
        XCTAssertTrue(claims.allSatisfy { $0.sample.contains("4 chunks") && !$0.criterion.isEmpty })
        // A verdict whose configurations name no GQA mode still says which selection it rests on.
        let artifact = claims.first { $0.protocolName == "artifact" }!
        XCTAssertTrue(artifact.criterion.contains("GQA: each query head selects its own rows"), artifact.criterion)
        XCTAssertFalse(claims.first { $0.gqa == "max" }!.criterion.contains("GQA:"))
        let defaults = PaperClaims.evaluate(experiment: "fig12", results: [
            chunkResult("full", full), chunkResult("infinigen", full), chunkResult("h2o", full),
        ])
        XCTAssertTrue(defaults.allSatisfy { $0.criterion.contains("infinigen gqa=max; h2o, oracle, quest gqa=sum") },
                      defaults.map(\.criterion).joined(separator: " | "))
    }

    /// The rules' list of GQA-selecting policies is the registry's.
    func testGQAPolicyListMatchesTheRegistry() {
        let selecting = Set(PolicyRegistry.methods.filter { $0.parameters.contains { $0.name == "gqa" } }.map { $0.name })
        XCTAssertEqual(ClaimRules.gqaPolicies, selecting)
        // A default-mode policy never joins a named mode's group; the full cache joins every group.
        let results = [chunkResult("full", [10]), chunkResult("infinigen", [11]), chunkResult("infinigen", [12], gqa: "sum"),
                       chunkResult("h2o", [13], gqa: "sum")]
        let groups = ClaimRules.groups(results)
        XCTAssertEqual(groups.map { $0.0.gqa }, [nil, "sum"])
        func policies(_ g: String?) -> [String] {
            groups.first { $0.0.gqa == g }!.1.compactMap { try? $0.configuration.string("policy") }
        }
        XCTAssertEqual(policies(nil), ["full", "infinigen"])
        XCTAssertEqual(policies("sum"), ["full", "infinigen:gqa=sum", "h2o:gqa=sum"])
    }

    private func fewShot(_ method: String, correct: [Double], bytes: Double, task: String = "copa") -> ExperimentResult {
        var r = ResultRecord()
        r.add("items", correct.count, .measured)
        r.add("kv_bytes_relative", bytes, .measured)
        r.add("agreement_with_full", 1, .measured)
        r.add("mean_abs_loglik_delta", 0, .measured)
        r.addSeries("item_correct", correct, .measured)
        return ExperimentResult(configuration: ["task": .string(task), "method": .string(method), "items": .int(correct.count),
                                                "shots": .int(5)], record: r)
    }

    func testPairedAccuracyVerdicts() {
        let n = 100
        let ones = Array(repeating: 1.0, count: n), zeros = Array(repeating: 0.0, count: n)
        let half = (0..<n).map { Double($0 % 2) }
        // With skewing right on every item, without on none: resolved, holds.
        var claims = PaperClaims.evaluate(experiment: "fig13", results: [
            fewShot("infinigen:skew=true", correct: ones, bytes: 0.2), fewShot("infinigen:skew=false", correct: zeros, bytes: 0.2),
        ])
        XCTAssertEqual(claims.map(\.verdict), [.holds])
        claims = PaperClaims.evaluate(experiment: "fig13", results: [
            fewShot("infinigen:skew=true", correct: zeros, bytes: 0.2), fewShot("infinigen:skew=false", correct: ones, bytes: 0.2),
        ])
        XCTAssertEqual(claims.map(\.verdict), [.doesNotHold])
        // A few items that disagree both ways: inside two standard errors.
        let mixed = (0..<6).map { Double($0 % 2) }, shifted = (0..<6).map { Double(($0 + 1) % 2) }
        claims = PaperClaims.evaluate(experiment: "fig13", results: [
            fewShot("infinigen:skew=true", correct: mixed, bytes: 0.2), fewShot("infinigen:skew=false", correct: shifted, bytes: 0.2),
        ])
        XCTAssertEqual(claims.map(\.verdict), [.notResolved])
        XCTAssertTrue(claims[0].sample.contains("6 items"))

        // fig11: InfiniGen against the peers nearest in bytes.
        let fig11 = PaperClaims.evaluate(experiment: "fig11", results: [
            fewShot("full", correct: ones, bytes: 1), fewShot("infinigen:alpha=4,budget=0.2", correct: ones, bytes: 0.2),
            fewShot("h2o:heavy=0.1,recent=0.1", correct: half, bytes: 0.21), fewShot("h2o:heavy=0.5,recent=0.5", correct: zeros, bytes: 0.9),
            fewShot("quant:bits=2", correct: half, bytes: 0.19),
        ])
        XCTAssertEqual(fig11.map(\.verdict), [.holds])
        let fig11Lost = PaperClaims.evaluate(experiment: "fig11", results: [
            fewShot("infinigen:alpha=4,budget=0.2", correct: half, bytes: 0.2),
            fewShot("h2o:heavy=0.1,recent=0.1", correct: ones, bytes: 0.21), fewShot("quant:bits=2", correct: half, bytes: 0.19),
        ])
        XCTAssertEqual(fig11Lost.map(\.verdict), [.doesNotHold])
    }

    private func speed(_ scheme: String, _ total: Double, batch: Int = 20) -> ExperimentResult {
        var r = ResultRecord()
        r.add("total_s", total, .modeled)
        return ExperimentResult(configuration: ["scheme": .string(scheme), "hardware": .string("a6000-pcie3"), "batch": .int(batch)],
                                record: r)
    }

    func testModeledSpeedupAgainstThePapersThreeX() {
        func verdict(_ ig: Double) -> ClaimVerdict? {
            PaperClaims.evaluate(experiment: "fig14", results: [
                speed("uvm-h2o", 300), speed("flexgen-int4", 200), speed("flexgen-h2o", 150), speed("infinigen-paper", ig),
            ]).first?.verdict
        }
        XCTAssertEqual(verdict(100), .holds)       // 3.0x
        XCTAssertEqual(verdict(200), .partly)      // 1.5x
        XCTAssertEqual(verdict(400), .doesNotHold)
        let c = PaperClaims.evaluate(experiment: "fig14", results: [speed("uvm-h2o", 300), speed("infinigen-paper", 100)])
        XCTAssertNil(c.first?.protocolName, "modeled numbers have no accuracy protocol")

        let fig15 = PaperClaims.evaluate(experiment: "fig15", results: [
            speed("flexgen", 10, batch: 4), speed("infinigen-paper", 5, batch: 4), speed("full-gpu", 1, batch: 4),
            speed("flexgen", 10, batch: 8), speed("infinigen-paper", 12, batch: 8),
        ])
        XCTAssertEqual(fig15.map(\.verdict), [.doesNotHold], "1 of 2 settings; the full-GPU floor is no competitor")
    }

    func testScoreboardIsFirstAndNeverBlendsConditions() {
        let results = [
            chunkResult("full", [10, 10], protocolName: "artifact"), chunkResult("infinigen", [10, 10], protocolName: "artifact"),
            chunkResult("h2o", [11, 11], protocolName: "artifact"),
            chunkResult("full", [10, 10]), chunkResult("infinigen", [12, 12]), chunkResult("h2o", [11, 11]),
        ]
        let claims = PaperClaims.evaluate(experiment: "fig12", results: results)
        let rows = PaperClaims.scoreboard(claims, registered: ["fig12"])
        XCTAssertEqual(rows.map(\.claim), ["fig12", "speculation-overhead"])
        XCTAssertEqual(rows[0].verdictSummary, "artifact: holds; decode: does not hold")
        XCTAssertTrue(rows[0].cell(protocolName: "artifact").contains("2 of 2"))
        XCTAssertEqual(rows[1].verdictSummary, "not run")
        var builder = ReportBuilder()
        builder.scoreboard = rows
        builder.sections = [ReportSection(id: "fig12", title: "t", paperSetting: [], ourSetting: [], comparisons: [],
                                          differences: [], text: "", tables: [], figures: [], runLine: "", provenanceLine: "",
                                          origins: [])]
        let md = builder.markdown()
        let board = md.range(of: "## Claims scoreboard")!, contents = md.range(of: "## Contents")!
        XCTAssertLessThan(board.lowerBound, contents.lowerBound)
    }

    /// The committed artifacts (whatever profile made them) give a verdict for every claim
    /// their experiments test.
    func testCommittedArtifactsYieldVerdicts() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("artifacts")
        var claims: [ClaimResult] = []
        for id in ["motivation", "fig12", "fig14", "fig15", "table2", "fig4", "fig11", "fig13"] {
            let url = dir.appendingPathComponent("\(id).json")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let artifact = try ExperimentArtifact.load(url)
            XCTAssertFalse(artifact.claims.isEmpty, "\(id) tests no claim")
            claims += artifact.claims
        }
        if ProcessInfo.processInfo.environment["INFINIGEN_PRINT_SCOREBOARD"] != nil {
            var b = ReportBuilder()
            b.scoreboard = PaperClaims.scoreboard(claims, registered: Set(PaperClaims.catalog.flatMap(\.experiments)))
            print(b.scoreboardMarkdown())
        }
    }
}
