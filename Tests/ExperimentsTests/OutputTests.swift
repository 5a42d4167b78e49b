import Foundation
import XCTest
import Report
@testable import Experiments

final class OutputTests: XCTestCase {
    func testOutputsCSVJSONFiguresAndReport() async throws {
        let dir = try temporaryDirectory()
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: ToyState()))
        try registry.register(ToySpec(id: "other", state: ToyState()))
        let render = Gnuplot.isAvailable
        try await makeRunner(registry, root: dir, only: ["toy"], render: render).reproduce()

        let csv = try String(contentsOf: dir.appendingPathComponent("artifacts/toy.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        XCTAssertEqual(lines[0], "label,n,scale,metric,index,x,value,unit,origin")
        XCTAssertEqual(lines[1], "\"p,1\",1,0.5,value,,,0.5,s,modeled")
        XCTAssertEqual(lines[2], "\"p,1\",1,0.5,square,,,1,,measured")
        XCTAssertEqual(lines[4], "\"p,1\",1,0.5,ramp,0,1.0,0.0,tokens,measured")
        XCTAssertEqual(lines.count, 1 + 4 * 6)

        let json = try JSONValue.parse(contentsOf: dir.appendingPathComponent("artifacts/toy.json"))
        XCTAssertEqual(json["id"], .string("toy"))
        XCTAssertEqual(json["records"]?.arrayValue?.count, 4)
        let firstValue = json["records"]?.arrayValue?[0]["values"]?.arrayValue?[0]
        XCTAssertEqual(firstValue?["origin"], .string("modeled"))
        XCTAssertEqual(firstValue?["value"], .double(0.5))
        XCTAssertNotNil(json["provenance"]?["machine"]?["cpuModel"])
        XCTAssertNotNil(json["provenance"]?["timestamp"])
        let artifact = try ExperimentArtifact.load(dir.appendingPathComponent("artifacts/toy.json"))
        XCTAssertEqual(json["contentSHA256"]?.stringValue, try artifact.contentSHA256())

        for ext in ["gp", "dat"] + (render ? ["png", "svg"] : []) {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("figures/toy.\(ext)").path), ext)
        }

        let report = try String(contentsOf: dir.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("## toy: Toy experiment toy"))
        XCTAssertTrue(report.contains("| Model | OPT-13B | toy |"))
        XCTAssertTrue(report.contains("| max value (s) | 3.5 | 2 | modeled | paper fig. 0 |"))
        XCTAssertTrue(report.contains("- Toy numbers are not the paper's."))
        XCTAssertTrue(report.contains("![toy](../figures/toy.png)"))
        XCTAssertTrue(report.contains("Numbers: **measured and modeled**."))
        XCTAssertTrue(report.contains("The toy value grows linearly with n."))
        XCTAssertTrue(report.contains("## Not run yet\n\n- other: Toy experiment other"))

        // Running the other experiment later adds its section; the first stays.
        try await makeRunner(registry, root: dir, only: ["other"]).reproduce()
        let both = try String(contentsOf: dir.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        XCTAssertTrue(both.contains("## toy:") && both.contains("## other:"))
        XCTAssertFalse(both.contains("Not run yet"))
    }

    /// `reproduce --report-only` on artifacts made by other code: the section and the
    /// scoreboard say so instead of passing old numbers off as current.
    func testReportMarksArtifactsOfOtherCodeAsStale() async throws {
        let dir = try temporaryDirectory()
        let registry = ExperimentRegistry()
        let state = ToyState()
        try registry.register(ToySpec(id: "toy", state: state))
        try await makeRunner(registry, root: dir, only: ["toy"]).reproduce()
        var report = try String(contentsOf: dir.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        XCTAssertFalse(report.contains("stale: computed by other code"))
        state.codeVersion = "toy-2"
        _ = try makeRunner(registry, root: dir, only: ["toy"]).writeReport()
        report = try String(contentsOf: dir.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("stale: computed by other code than this build's (toy-2)"))
        XCTAssertEqual(state.runs, 4, "writing the report runs nothing")
    }

    func testPlotIdsMustBelongToTheExperiment() async throws {
        struct BadPlot: ExperimentSpec {
            var id = "bad"
            var title = "bad"
            var paperSetting: [Setting] = []
            var ourSetting: [Setting] = []
            var codeVersion = "1"
            func configurations(profile: RunProfile) -> [Configuration] { [["k": 1]] }
            func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord {
                var r = ResultRecord()
                r.add("v", 1.0, .measured)
                r.add("v", 2.0, .measured)
                return r
            }
            func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput { ExperimentOutput() }
        }
        let registry = ExperimentRegistry()
        try registry.register(BadPlot())
        do {
            let scratch = try temporaryDirectory()
            try await makeRunner(registry, root: scratch).reproduce()
            XCTFail()
        } catch {
            XCTAssertEqual("\(error)", "bad config 1/1 (k=1): result has two values named 'v'")
        }
    }

    func testProgressLines() {
        XCTAssertEqual(ProgressLine.line(experiment: "fig14", position: 3, total: 24, elapsed: 41, eta: 130),
                       "[fig14] config 3/24  elapsed 0:41  ETA 2:10")
        XCTAssertEqual(ProgressLine.line(experiment: "f", position: 1, total: 2, elapsed: 0, eta: nil, cached: true),
                       "[f] config 1/2  elapsed 0:00  ETA --:--  (cached)")
        XCTAssertEqual(ProgressLine.clock(3723), "1:02:03")

        let sink = TextSink()
        let tty = ProgressLine(quiet: false, interactive: true, sink: { sink.write($0) })
        tty.update("a")
        tty.note("warning")
        tty.finish("done")
        XCTAssertEqual(sink.text, "\ra\u{1B}[K\r\u{1B}[Kwarning\n\rdone\u{1B}[K\n")

        let quietSink = TextSink()
        let quiet = ProgressLine(quiet: true, interactive: false, sink: { quietSink.write($0) })
        quiet.update("a")
        quiet.note("info")
        quiet.note("warning", force: true)
        XCTAssertEqual(quietSink.text, "warning\n")
    }

    func testPlainProgressLinesWhenNotATerminal() async throws {
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: ToyState()))
        let sink = TextSink()
        let scratch = try temporaryDirectory()
        try await makeRunner(registry, root: scratch, sink: sink).reproduce()
        let lines = sink.text.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("[toy] config 1/4  elapsed 0:00  ETA --:--"), "\(lines)")
        XCTAssertTrue(lines[1].hasPrefix("[toy] config 2/4  elapsed"))
        XCTAssertTrue(lines[4].hasPrefix("[toy] 4 configs: 4 computed, 0 cached"))
        XCTAssertFalse(sink.text.contains("\r"))
    }
}
