import Foundation
import XCTest
@testable import Report

final class GnuplotTests: XCTestCase {
    static let linePanel = PlotPanel(
        title: "alpha sweep", x: PlotAxis("alpha", unit: "1"), y: PlotAxis("Latency", unit: "s", logScale: true),
        kind: .linespoints,
        series: [PlotSeries(name: "InfiniGen max_num_kv", x: [1, 2, 3], y: [10, 20, .nan]),
                 PlotSeries(name: "H2O's 'heavy'", x: [1, 2, 3], y: [30, 25, 22])],
        key: .topLeft)

    static let barPanel = PlotPanel(
        title: "per scheme", x: PlotAxis("Scheme", unit: ""), y: PlotAxis("Time", unit: "s"),
        kind: .stackedBars,
        series: [PlotSeries(name: "prefill", values: [1, 2, 3]), PlotSeries(name: "decode", values: [4, 5, 6])],
        categories: ["UVM", "FlexGen INT4", "Infini\"Gen"], key: .below)

    func testDataFileHasOneBlockPerSeriesAndQuotedCategories() throws {
        let figure = try GnuplotFigure(PlotSpec(id: "fig_t", title: "T", panel: Self.linePanel, second: Self.barPanel))
        let dat = figure.dataText()
        XCTAssertTrue(dat.hasPrefix("# fig_t.dat: data for fig_t.gp"))
        XCTAssertTrue(dat.contains("# [index 0] panel 1, series \"InfiniGen max_num_kv\""))
        XCTAssertTrue(dat.contains("3.0 ?\n"), "NaN is written as the missing marker")
        XCTAssertTrue(dat.contains("# [index 2] panel 2"))
        XCTAssertTrue(dat.contains("\"FlexGen INT4\" 2.0 5.0\n"))
        XCTAssertTrue(dat.contains("\"Infini'Gen\" 3.0 6.0\n"))
        XCTAssertEqual(dat.components(separatedBy: "\n\n\n").count, 3, "three blocks, two blank lines apart")

        let gp = figure.scriptText()
        XCTAssertTrue(gp.contains("noenhanced"))
        XCTAssertTrue(gp.contains("set output 'fig_t.png'") && gp.contains("set output 'fig_t.svg'"))
        XCTAssertTrue(gp.contains("set multiplot layout 1,2"))
        XCTAssertTrue(gp.contains("'fig_t.dat' index 1 using 1:2 with linespoints lw 2 title 'H2O''s ''heavy'''"))
        XCTAssertTrue(gp.contains("set style histogram rowstacked"))
        XCTAssertTrue(gp.contains("set ylabel 'Latency (s)'"))
        XCTAssertFalse(gp.contains("/"), "script paths must be relative: \(gp)")
    }

    func testRendersPNGAndSVGFromTheFiguresDirectory() throws {
        try XCTSkipUnless(Gnuplot.isAvailable, "gnuplot not installed")
        let dir = try temporaryDirectory()
        let grouped = PlotPanel(x: PlotAxis("Batch", unit: "sequences"), y: PlotAxis("Latency", unit: "s"),
                                kind: .groupedBars,
                                series: [PlotSeries(name: "FlexGen", values: [5, 9]), PlotSeries(name: "InfiniGen", values: [1, 2])],
                                categories: ["4", "8"], key: .outsideRight)
        let specs = [
            PlotSpec(id: "single", title: "max_num_kv = 400 (underscores stay)", panel: Self.linePanel),
            PlotSpec(id: "double", title: "two panels", panel: Self.linePanel, second: Self.barPanel),
            PlotSpec(id: "grouped", title: "grouped", panel: grouped),
        ]
        for spec in specs {
            let script = try GnuplotFigure(spec).write(to: dir)
            try Gnuplot.render(script: script)
            let png = try Data(contentsOf: dir.appendingPathComponent("\(spec.id).png"))
            XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
            XCTAssertGreaterThan(png.count, 5_000)
            let svg = try String(contentsOf: dir.appendingPathComponent("\(spec.id).svg"), encoding: .utf8)
            XCTAssertTrue(svg.contains("<svg"))
        }
        let svg = try String(contentsOf: dir.appendingPathComponent("single.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("max_num_kv"), "noenhanced keeps underscores literal")
    }

    func testGnuplotErrorsAreOneLineWithStderr() throws {
        try XCTSkipUnless(Gnuplot.isAvailable, "gnuplot not installed")
        let dir = try temporaryDirectory()
        let script = dir.appendingPathComponent("bad.gp")
        try "set terminal pngcairo\nset output 'bad.png'\nplot 'nope.dat' using 1:2\n".write(to: script, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Gnuplot.render(script: script)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("gnuplot failed on bad.gp"), text)
            XCTAssertTrue(text.contains("nope.dat"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }

    func testMissingGnuplotIsAClearError() throws {
        setenv("GNUPLOT", "/nonexistent/gnuplot", 1)
        defer { unsetenv("GNUPLOT") }
        XCTAssertFalse(Gnuplot.isAvailable)
        XCTAssertThrowsError(try Gnuplot.render(script: URL(fileURLWithPath: "/tmp/x.gp"))) {
            XCTAssertTrue("\($0)".hasPrefix("gnuplot not found"), "\($0)")
        }
    }

    func testValidationCatchesShapeMistakes() {
        let bad = PlotPanel(x: PlotAxis("x", unit: "1"), y: PlotAxis("y", unit: "1"), kind: .lines,
                            series: [PlotSeries(name: "s", x: [1, 2], y: [1])])
        XCTAssertThrowsError(try GnuplotFigure(PlotSpec(id: "f", title: "t", panel: bad))) {
            XCTAssertEqual("\($0)", "f: series 's' has 2 x and 1 y values")
        }
        let bars = PlotPanel(x: PlotAxis("x", unit: ""), y: PlotAxis("y", unit: "s"), kind: .groupedBars,
                             series: [PlotSeries(name: "s", values: [1])], categories: ["a", "b"])
        XCTAssertThrowsError(try GnuplotFigure(PlotSpec(id: "f", title: "t", panel: bars)))
        XCTAssertThrowsError(try GnuplotFigure(PlotSpec(id: "../evil", title: "t", panel: Self.linePanel)))
    }
}
