import Foundation
import Report
import TestSupport
import XCTest
@testable import Experiments
#if canImport(Glibc)
import Glibc
#endif

/// A run killed with SIGKILL part-way (after some but not all results are cached) and then
/// resumed ends with exactly the numbers of an uninterrupted run, and leaves no
/// half-written file: results are written to a temporary file and renamed, and a resumed
/// run recomputes only what is missing.
final class KilledRunTests: XCTestCase {
    /// A small quick-profile experiment on the real model: two configurations of about two
    /// seconds each (the whole run takes ~5 s), so the kill lands between them.
    static let experiment = "fig4"

    func testKilledRunsResumeToTheUninterruptedResults() throws {
        _ = try RealModel.path()   // skip, like every real-model test, when the assets are absent
        let spec = try XCTUnwrap(Catalog.specs.first { $0.id == Self.experiment })
        let total = spec.configurations(profile: .quick).count
        XCTAssertGreaterThan(total, 1, "needs configurations to kill between")
        let args = ["reproduce", "--profile", "quick", "--only", Self.experiment, "--quiet", "--no-render"]

        let whole = try temporaryDirectory()
        let straight = try Infinigen.run(args + ["--out-dir", whole.path], in: whole)
        XCTAssertEqual(straight.status, 0, straight.output)

        // Killed as soon as the first result is cached, then resumed (the loop kills again
        // while configurations remain, for experiments with more of them).
        let resumed = try temporaryDirectory()
        let cache = ResultCache(directory: OutputLayout(root: resumed).cache)
        var killedAt: [Int] = []
        for _ in 0..<min(2, total - 1) {
            let before = cache.allEntries().entries.count
            let p = try Infinigen.process(args + ["--out-dir", resumed.path], in: resumed)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(300)
            while p.isRunning && cache.allEntries().entries.count <= before && Date() < deadline { usleep(5_000) }
            guard p.isRunning else { return XCTFail("the run ended before it could be killed (status \(p.terminationStatus))") }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal)
            killedAt.append(cache.allEntries().entries.count)
        }
        XCTAssertTrue(killedAt.allSatisfy { $0 > 0 && $0 < total }, "killed after some but not all results: \(killedAt) of \(total)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: OutputLayout(root: resumed).json(Self.experiment).path),
                       "no artifact before the run completes")
        let cachedBefore = try cachedFiles(cache)
        let finish = try Infinigen.run(args + ["--out-dir", resumed.path], in: resumed)
        XCTAssertEqual(finish.status, 0, finish.output)
        // The resumed run reused what the killed ones had cached, byte for byte.
        let cachedAfter = try cachedFiles(cache)
        for (name, data) in cachedBefore { XCTAssertEqual(cachedAfter[name], data, "\(name) was rewritten") }

        // Nothing half-written: every result file and artifact parses.
        let (a, problems) = ResultCache(directory: OutputLayout(root: whole).cache).allEntries()
        let (b, problemsResumed) = cache.allEntries()
        XCTAssertEqual(problems + problemsResumed, [])
        XCTAssertNoThrow(try JSONValue.parse(String(contentsOf: OutputLayout(root: resumed).json(Self.experiment), encoding: .utf8)))
        XCTAssertEqual(a.count, total)
        XCTAssertEqual(b.count, total)

        // The same numbers, bit for bit (timings aside: the spec's golden values).
        for entry in a {
            let other = try XCTUnwrap(b.first { $0.key == entry.key }, "\(entry.key) missing from the resumed run")
            let (x, y) = (values(entry, spec), values(other, spec))
            XCTAssertFalse(x.isEmpty)
            XCTAssertEqual(x.map(\.0), y.map(\.0), entry.configuration.canonicalJSON)
            XCTAssertEqual(x.map(\.1), y.map(\.1), "configuration \(entry.configuration.canonicalJSON)")
        }
    }

    /// The spec's reproducible values (its golden ones: timings left out).
    private func values(_ entry: CacheEntry, _ spec: any ExperimentSpec) -> [(String, MetricValue)] {
        GoldenFile.flatten(entry.record)
            .filter { spec.goldenTolerance(for: GoldenFile.baseName($0.0), origin: $0.2) != nil }
            .map { ($0.0, $0.1) }
    }

    /// Every file in the experiment's cache folder (temporary ones included), by name.
    private func cachedFiles(_ cache: ResultCache) throws -> [String: Data] {
        let folder = cache.directory.appendingPathComponent(Self.experiment, isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: folder.appendingPathComponent($0))) })
    }
}
