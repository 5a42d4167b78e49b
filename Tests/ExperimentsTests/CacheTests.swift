import Foundation
import XCTest
import Report
@testable import Experiments

final class CacheTests: XCTestCase {
    func testSecondRunIsServedFromTheCache() async throws {
        let dir = try temporaryDirectory()
        let state = ToyState()
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: state))

        let first = try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(state.runs, 4)
        XCTAssertEqual(first.computed, 4)
        XCTAssertEqual(first.cached, 0)

        let second = try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(state.runs, 4, "nothing recomputed")
        XCTAssertEqual(second.cached, 4)

        // A larger profile reuses the shared configurations and computes only the new ones.
        let bigger = try await makeRunner(registry, root: dir, profile: .default).reproduce()
        XCTAssertEqual(bigger.computed, 2)
        XCTAssertEqual(state.runs, 6)
    }

    func testCodeVersionOrInputChangeMissesTheCache() async throws {
        let dir = try temporaryDirectory()
        let state = ToyState()
        let input = dir.appendingPathComponent("model.bin")
        try Data("weights v1".utf8).write(to: input)
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: state, inputFiles: [InputFile(name: "model", url: input)]))

        try await makeRunner(registry, root: dir).reproduce()
        state.codeVersion = "toy-2"
        try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(state.runs, 8, "a new code version recomputes everything")

        try Data("weights v2, longer".utf8).write(to: input)
        try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(state.runs, 12, "a changed input file recomputes everything")

        try FileManager.default.removeItem(at: input)
        do {
            try await makeRunner(registry, root: dir).reproduce()
            XCTFail("missing input must fail")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix("input 'model' not found at"), "\(error)")
        }
    }

    func testDamagedEntriesAreDetectedDeletedAndRecomputed() async throws {
        let dir = try temporaryDirectory()
        let state = ToyState()
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: state))
        try await makeRunner(registry, root: dir).reproduce()
        let reference = try String(contentsOf: dir.appendingPathComponent("artifacts/toy.csv"), encoding: .utf8)

        let cacheDir = dir.appendingPathComponent("artifacts/cache/toy")
        let files = try FileManager.default.contentsOfDirectory(atPath: cacheDir.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertEqual(files.count, 4)
        let urls = files.map { cacheDir.appendingPathComponent($0) }
        // 1: garbage, 2: truncated, 3: a value edited (checksum no longer matches),
        // 4: a valid entry filed under another configuration's key.
        try Data("not json".utf8).write(to: urls[0])
        let second = try Data(contentsOf: urls[1])
        try second.prefix(second.count / 2).write(to: urls[1])
        let third = try String(contentsOf: urls[2], encoding: .utf8)
        try third.write(to: urls[3], atomically: true, encoding: .utf8)
        try third.replacingOccurrences(of: "\"square\"", with: "\"squarf\"").write(to: urls[2], atomically: true, encoding: .utf8)

        let sink = TextSink()
        let summary = try await makeRunner(registry, root: dir, sink: sink).reproduce()
        XCTAssertEqual(summary.discarded, 4)
        XCTAssertEqual(summary.computed, 4)
        XCTAssertEqual(state.runs, 8)
        XCTAssertTrue(sink.text.contains("warning: discarded cache entry toy/"), sink.text)
        XCTAssertTrue(sink.text.contains("checksum mismatch"), sink.text)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("artifacts/toy.csv"), encoding: .utf8), reference)

        let again = try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(again.cached, 4, "repaired entries are valid again")
    }

    func testInterruptedRunResumesFromTheCache() async throws {
        let dir = try temporaryDirectory()
        let state = ToyState()
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: state))
        state.failAtRun(3)
        do {
            try await makeRunner(registry, root: dir).reproduce()
            XCTFail("the run should stop")
        } catch {
            XCTAssertEqual("\(error)", "toy config 3/4 (label=p,3 n=3 scale=0.5): simulated interruption")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("artifacts/toy.csv").path))
        state.failAtRun(nil)
        let resumed = try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(resumed.cached, 2)
        XCTAssertEqual(resumed.computed, 2)
    }

    func testCacheKeyDependsOnEveryIngredient() {
        let c: Configuration = ["alpha": 4.0]
        let base = CacheEntry.key(experiment: "a", configuration: c, inputDigests: ["m": "1"], codeVersion: "v")
        XCTAssertEqual(base.count, 64)
        XCTAssertEqual(base, CacheEntry.key(experiment: "a", configuration: ["alpha": 4.0], inputDigests: ["m": "1"], codeVersion: "v"))
        XCTAssertNotEqual(base, CacheEntry.key(experiment: "b", configuration: c, inputDigests: ["m": "1"], codeVersion: "v"))
        XCTAssertNotEqual(base, CacheEntry.key(experiment: "a", configuration: ["alpha": 4], inputDigests: ["m": "1"], codeVersion: "v"))
        XCTAssertNotEqual(base, CacheEntry.key(experiment: "a", configuration: c, inputDigests: ["m": "2"], codeVersion: "v"))
        XCTAssertNotEqual(base, CacheEntry.key(experiment: "a", configuration: c, inputDigests: ["m": "1"], codeVersion: "w"))
    }
}
