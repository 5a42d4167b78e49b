import Foundation
import XCTest
import Report
@testable import Experiments

final class ShardTests: XCTestCase {
    func testParsing() throws {
        XCTAssertEqual(try Shard(parsing: "2/4"), try Shard(index: 2, count: 4))
        for bad in ["0/4", "5/4", "1/0", "a/b", "3", "1/2/3", ""] {
            XCTAssertThrowsError(try Shard(parsing: bad), bad)
        }
        XCTAssertEqual(try Shard(parsing: "2/4").directoryName, "2-of-4")
    }

    func testShardsPartitionAllConfigurationsAndMergeEqualsAnUnshardedRun() async throws {
        let states = (ToyState(), ToyState())
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toyA", state: states.0, sizes: [.quick: 5, .default: 5, .full: 5]))
        try registry.register(ToySpec(id: "toyB", state: states.1, sizes: [.quick: 4, .default: 4, .full: 4]))

        // Each shard on its own "machine" (root directory).
        let machines = try (0..<3).map { _ in try temporaryDirectory() }
        var shardKeys: [Set<String>] = []
        for (i, machine) in machines.enumerated() {
            let shard = try Shard(index: i + 1, count: 3)
            try await makeRunner(registry, root: machine, shard: shard).reproduce()
            let manifest = try ShardManifest.load(machine.appendingPathComponent("artifacts/shards/\(i + 1)-of-3/manifest.json"))
            shardKeys.append(Set(manifest.experiments.flatMap(\.keys)))
            XCTAssertFalse(FileManager.default.fileExists(atPath: machine.appendingPathComponent("artifacts/REPORT.md").path),
                           "a shard writes no final outputs")
        }
        XCTAssertEqual(shardKeys.map(\.count), [3, 3, 3], "9 configurations round-robin over 3 shards")
        XCTAssertEqual(states.0.runs + states.1.runs, 9, "each configuration computed exactly once")
        XCTAssertTrue(shardKeys[0].isDisjoint(with: shardKeys[1]) && shardKeys[1].isDisjoint(with: shardKeys[2])
                      && shardKeys[0].isDisjoint(with: shardKeys[2]))

        let unsharded = try temporaryDirectory()
        try await makeRunner(registry, root: unsharded).reproduce()
        let allKeys = try ["toyA", "toyB"].flatMap { id in
            try ExperimentArtifact.load(unsharded.appendingPathComponent("artifacts/\(id).json")).cacheKeys
        }
        XCTAssertEqual(shardKeys.reduce(Set(), { $0.union($1) }), Set(allKeys), "the shards cover every configuration")

        // Merge on a fresh machine from the copied shard directories (one given as a parent dir).
        let merged = try temporaryDirectory()
        let incoming = merged.appendingPathComponent("incoming")
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
        for (i, machine) in machines.enumerated() {
            try FileManager.default.copyItem(at: machine.appendingPathComponent("artifacts/shards/\(i + 1)-of-3"),
                                             to: incoming.appendingPathComponent("\(i + 1)-of-3"))
        }
        let runsBefore = states.0.runs + states.1.runs
        let summary = try await makeRunner(registry, root: merged).merge(shardDirectories: [incoming])
        XCTAssertEqual(states.0.runs + states.1.runs, runsBefore, "merge computes nothing")
        XCTAssertEqual(summary.cached, 9)

        for id in ["toyA", "toyB"] {
            let a = try ExperimentArtifact.load(unsharded.appendingPathComponent("artifacts/\(id).json"))
            let b = try ExperimentArtifact.load(merged.appendingPathComponent("artifacts/\(id).json"))
            XCTAssertEqual(a.entries, b.entries)
            let csvA = try Data(contentsOf: unsharded.appendingPathComponent("artifacts/\(id).csv"))
            let csvB = try Data(contentsOf: merged.appendingPathComponent("artifacts/\(id).csv"))
            XCTAssertEqual(csvA, csvB)
            for ext in ["gp", "dat"] {
                XCTAssertEqual(try Data(contentsOf: unsharded.appendingPathComponent("figures/\(id).\(ext)")),
                               try Data(contentsOf: merged.appendingPathComponent("figures/\(id).\(ext)")))
            }
        }
        // Same numbers, same code state, same machine (repository differs: both temp dirs without git).
        let reportA = try String(contentsOf: unsharded.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        let reportB = try String(contentsOf: merged.appendingPathComponent("artifacts/REPORT.md"), encoding: .utf8)
        XCTAssertEqual(reportA.replacingOccurrences(of: #"[0-9.e+-]+ s of compute"#, with: "", options: .regularExpression),
                       reportB.replacingOccurrences(of: #"[0-9.e+-]+ s of compute"#, with: "", options: .regularExpression))
    }

    func testMergeReportsMissingShards() async throws {
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: ToyState()))
        let machine = try temporaryDirectory()
        try await makeRunner(registry, root: machine, shard: try Shard(index: 1, count: 2)).reproduce()
        do {
            let scratch = try temporaryDirectory()
            try await makeRunner(registry, root: scratch)
                .merge(shardDirectories: [machine.appendingPathComponent("artifacts/shards")])
            XCTFail("merge must refuse incomplete results")
        } catch {
            XCTAssertEqual("\(error)", "merge: configurations missing (toy 2 of 4); shards present: 1 of 2")
        }
        do {
            try await makeRunner(registry, root: machine).merge(shardDirectories: [machine.appendingPathComponent("figures")])
            XCTFail()
        } catch {
            XCTAssertTrue("\(error)".contains("is not a directory"), "\(error)")
        }
    }

    func testMergeRejectsDamagedShardResults() async throws {
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: ToyState()))
        let machine = try temporaryDirectory()
        try await makeRunner(registry, root: machine, shard: try Shard(index: 1, count: 1)).reproduce()
        let cache = machine.appendingPathComponent("artifacts/shards/1-of-1/cache/toy")
        let file = try FileManager.default.contentsOfDirectory(atPath: cache.path).sorted()[0]
        try Data("{}".utf8).write(to: cache.appendingPathComponent(file))
        do {
            let scratch = try temporaryDirectory()
            try await makeRunner(registry, root: scratch)
                .merge(shardDirectories: [machine.appendingPathComponent("artifacts/shards/1-of-1")])
            XCTFail()
        } catch {
            XCTAssertTrue("\(error)".hasPrefix("merge: damaged shard results:"), "\(error)")
        }
    }
}
