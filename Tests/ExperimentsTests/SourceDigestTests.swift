import Foundation
import Model
import Report
import XCTest
@testable import Experiments

/// Code versions come from the build-time source digests: changing one module's digest
/// must invalidate exactly the experiments whose numbers it can change.
final class SourceDigestTests: XCTestCase {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Experiments whose code version changes when `module`'s digest does.
    func affected(by module: String) -> Set<String> {
        let before = Dictionary(uniqueKeysWithValues: Catalog.specs.map { ($0.id, $0.codeVersion) })
        return SourceDigests.$current.withValue(SourceDigests.build.changing(module: module)) {
            Set(Catalog.specs.filter { before[$0.id] != $0.codeVersion }.map(\.id))
        }
    }

    func testPolicyChangeInvalidatesEngineExperimentsOnly() {
        let modeled: Set = ["fig14", "fig14-whatif", "fig15", "fig16a", "fig16b"]
        let all = Set(Catalog.specs.map(\.id))
        XCTAssertEqual(affected(by: "Policies"), all.subtracting(modeled))
        XCTAssertEqual(affected(by: "Model"), all, "the simulator reads Model too")
        XCTAssertEqual(affected(by: "Package"), all, "compiler flags change every number")
        // The simulator and its bundled profiles: the speed figures and the two engine
        // experiments that run it, not the accuracy experiments.
        XCTAssertEqual(affected(by: "Offload"), modeled.union(["fig17-latency", "offload-run"]))
    }

    func testSpecFileChangesReachTheRightExperiments() {
        func affected(byFile path: String) -> Set<String> {
            let before = Dictionary(uniqueKeysWithValues: Catalog.specs.map { ($0.id, $0.codeVersion) })
            var digests = SourceDigests.build
            XCTAssertNotNil(digests.files[path], path)
            digests.files[path] = "changed"
            return SourceDigests.$current.withValue(digests) {
                Set(Catalog.specs.filter { before[$0.id] != $0.codeVersion }.map(\.id))
            }
        }
        XCTAssertEqual(affected(byFile: "Experiments/Specs/Fig4Spec.swift"),
                       ["fig4", "speculation-counts", "fig17-latency", "offload-run", "motivation", "fig11", "fig12",
                        "fig13", "fig17-accuracy", "policy-quality", "table2", "speculation-quality"])
        XCTAssertTrue(affected(byFile: "Experiments/Specs/SpeedSupport.swift").isSuperset(of: ["fig14", "fig15", "fig16a"]))
        XCTAssertFalse(affected(byFile: "Experiments/Specs/SpeedSupport.swift").contains("fig4"))
        XCTAssertEqual(affected(byFile: "Experiments/CacheEntry.swift"), Set(Catalog.specs.map(\.id)),
                       "the runner's own files are part of every version")
    }

    func testEveryDeclaredDependencyExists() {
        for spec in Catalog.specs {
            XCTAssertEqual(SourceDigests.build.unresolved(spec.codeDependencies), [], spec.id)
            XCTAssertTrue(spec.codeVersion.hasPrefix("src-"), "\(spec.id): \(spec.codeVersion)")
        }
        for module in ["CBLAS", "Numerics", "GGUF", "Tokenizer", "Trace", "Model", "Policies", "Offload", "Evaluation",
                       "Report", "Experiments", "Package"] {
            XCTAssertNotNil(SourceDigests.build.modules[module], module)
        }
        XCTAssertEqual(Set(SourceDigests.build.needs["Offload"] ?? []), ["CBLAS", "Numerics", "Model", "Trace", "GGUF", "Tokenizer"])
    }

    /// The files a spec's selection includes may import only modules it depends on: a
    /// modeled speed file that starts importing Policies must declare it.
    func testSelectedFilesImportOnlyDeclaredModules() throws {
        let system: Set = ["Foundation", "Glibc", "Darwin", "Dispatch"]
        for spec in Catalog.specs {
            let digests = SourceDigests.build
            let modules = Set(digests.modules(of: spec.codeDependencies)).subtracting(["Experiments"])
            for path in digests.files(of: spec.codeDependencies) where path.hasSuffix(".swift") {
                let text = try String(contentsOf: Self.sources.appendingPathComponent(path), encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") {
                    let name = String(line.dropFirst("import ".count)).trimmingCharacters(in: .whitespaces)
                    XCTAssertTrue(system.contains(name) || modules.contains(name), "\(spec.id): \(path) imports \(name)")
                }
            }
        }
    }

    /// The compiled-in digests are those of the files on disk (the test build just ran the
    /// plugin): every file of the module, resources included, hashed with its path.
    func testBuildDigestsDescribeTheSourceTree() throws {
        for module in ["Policies", "Offload"] {
            let root = Self.sources.appendingPathComponent(module).standardizedFileURL
            var lines: [(String, String)] = []
            let walker = try XCTUnwrap(FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                                      options: [.skipsHiddenFiles]))
            for case let url as URL in walker where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
                let path = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
                lines.append((path, try SHA256.hex(fileAt: url)))
            }
            if module == "Offload" { XCTAssertTrue(lines.contains { $0.0.hasPrefix("Resources/hardware/") }) }
            let summary = lines.sorted { $0.0 < $1.0 }.map { "\($0.0)\u{0}\($0.1)\n" }.joined()
            XCTAssertEqual(SourceDigests.build.modules[module], SHA256.hex(summary), module)
        }
        let spec = try String(contentsOf: Self.sources.appendingPathComponent("Experiments/Specs/Fig4Spec.swift"), encoding: .utf8)
        XCTAssertEqual(SourceDigests.build.files["Experiments/Specs/Fig4Spec.swift"], SHA256.hex(spec))
    }

    /// `list` with cached results for every spec below, then with Policies' digest changed:
    /// the engine experiments are stale (not "not run"), the modeled speed figures cached.
    func testListShowsPolicyDependentExperimentsStale() throws {
        guard (try? Assets.modelPath()) != nil else { throw XCTSkip("model asset missing: run `make setup`") }
        let dir = try temporaryDirectory()
        let registry = ExperimentRegistry()
        let specs: [any ExperimentSpec] = [Fig4Spec(), PolicyQualitySpec(), SpeedFig14Spec(), SpeedFig15Spec(),
                                           SpeedFig16aSpec()]
        for spec in specs { try registry.register(spec) }
        let runner = makeRunner(registry, root: dir)
        // Cache a stand-in record for every configuration under today's keys (what a run
        // would store), without computing anything.
        let cache = ResultCache(directory: OutputLayout(root: dir).cache)
        let files = FileDigests(memoFile: dir.appendingPathComponent("digests.json"))
        for spec in specs {
            let plan = try ExperimentPlan(spec: spec, profile: .quick, digests: files, artifacts: dir)
            for (configuration, key) in zip(plan.configurations, plan.keys) {
                var record = ResultRecord()
                record.add("x", 1.0, .modeled)
                try cache.store(CacheEntry(experiment: spec.id, key: key, configuration: configuration,
                                           codeVersion: plan.codeVersion, inputDigests: plan.inputDigests,
                                           record: record, computeSeconds: 0))
            }
        }
        XCTAssertEqual(try runner.status().map(\.state), Array(repeating: .cached, count: specs.count))

        let changed = try SourceDigests.$current.withValue(SourceDigests.build.changing(module: "Policies")) {
            try runner.status()
        }
        let states = Dictionary(uniqueKeysWithValues: changed.map { ($0.id, $0.state) })
        XCTAssertEqual(states, ["fig4": .stale, "policy-quality": .stale, "fig14": .cached, "fig15": .cached,
                                "fig16a": .cached])
        for s in changed where s.state == .stale {
            XCTAssertEqual(s.cached, 0, s.id)
            XCTAssertEqual(s.superseded, s.total, s.id)
        }
    }

    /// The measured profile offload-run predicts with is part of its key; absent, it
    /// enters as "absent" instead of failing `list`.
    func testOffloadRunKeyFollowsTheMachineProfile() throws {
        guard (try? Assets.modelPath()) != nil else { throw XCTSkip("model asset missing: run `make setup`") }
        let dir = try temporaryDirectory()
        let profile = dir.appendingPathComponent("this-machine.json")
        let spec = OffloadRunSpec(profilePath: profile.path)
        let files = FileDigests(memoFile: dir.appendingPathComponent("digests.json"))
        func plan() throws -> ExperimentPlan { try ExperimentPlan(spec: spec, profile: .quick, digests: files, artifacts: dir) }
        let absent = try plan()
        XCTAssertEqual(absent.inputDigests["this-machine"], "absent")
        try Data(#"{"name": "this-machine"}"#.utf8).write(to: profile)
        let present = try plan()
        XCTAssertEqual(present.inputDigests["this-machine"], try SHA256.hex(fileAt: profile))
        XCTAssertNotEqual(absent.keys, present.keys)
        XCTAssertEqual(try OffloadRunSpec().inputs(artifacts: dir).map(\.url.lastPathComponent).last, "this-machine.json",
                       "by default the profile lives in the artifacts directory")
    }
}
