import Foundation
import TestSupport
import XCTest

/// The real pipeline through the built executable: one quick experiment in a temporary
/// directory, and the committed golden numbers recomputed.
final class PipelineEndToEndTests: XCTestCase {
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `infinigen` built beside this test bundle (`make test` builds it first); a
    /// failure when it is missing.
    static func executable() throws -> URL { try Infinigen.executable() }

    @discardableResult
    static func run(_ exe: URL, _ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        try Infinigen.run(args, in: dir, executable: exe)
    }

    func testQuickExperimentWritesEveryOutputAndGnuplotAcceptsTheScript() throws {
        let exe = try Self.executable()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infinigen-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Self.run(exe, ["reproduce", "--profile", "quick", "--only", "motivation", "--quiet"], in: dir)
        XCTAssertEqual(r.status, 0, r.output)
        for file in ["artifacts/motivation.csv", "artifacts/motivation.json", "artifacts/REPORT.md",
                     "figures/motivation.gp", "figures/motivation.dat", "figures/motivation.png", "figures/motivation.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "missing \(file)")
        }
        let report = try String(contentsOf: dir.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("Paper's premise (section 3)"), "the report tests the premise")
        XCTAssertTrue(["The premise holds.", "criterion does not.", "Neither criterion holds."].contains { report.contains($0) },
                      "the report states a verdict")
        let gnuplot = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let gnuplot else { return XCTFail("gnuplot is not installed (make setup installs gnuplot-nox)") }
        let g = try Self.run(URL(fileURLWithPath: gnuplot), ["motivation.gp"], in: dir.appendingPathComponent("figures"))
        XCTAssertEqual(g.status, 0, g.output)
    }

    /// `make verify` in test form: the quick profile recomputed against Tests/Golden.
    func testGoldenNumbersReproduce() throws {
        let exe = try Self.executable()
        let r = try Self.run(exe, ["verify", "--profile", "quick", "--quiet"], in: Self.repository)
        XCTAssertEqual(r.status, 0, r.output)
    }
}
