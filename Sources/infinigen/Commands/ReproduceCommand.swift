import ArgumentParser
import Experiments
import Foundation

/// `infinigen reproduce`: compute (or take from the cache) and write every output.
struct ReproduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Run experiments and write artifacts/<id>.{csv,json}, figures/<id>.* and artifacts/REPORT.md.",
        discussion: """
        Results are cached in artifacts/cache/ (keyed by experiment, configuration, input files and code \
        version), so an interrupted run resumes where it stopped. With --shard i/n only every n-th \
        configuration (round-robin over all selected configurations) runs and the results go to \
        artifacts/shards/<i>-of-<n>/; combine the shards with `infinigen merge`.
        """)

    @Option(help: "Comma-separated experiment ids (default: all).", transform: ReproduceCommand.ids)
    var only: [String]?

    @Option(help: "quick, default or full.", transform: RunProfile.init(parsing:))
    var profile: RunProfile = .default

    @Option(help: "Run shard i of n (1-based), e.g. 2/4.", transform: Shard.init(parsing:))
    var shard: Shard?

    @Flag(help: "No progress line.")
    var quiet = false

    @Option(name: .customLong("out-dir"), help: "Root for artifacts/ and figures/.")
    var outDir: String = "."

    @Flag(name: .customLong("no-render"), help: "Write .gp/.dat but do not run gnuplot.")
    var noRender = false

    @Flag(name: .customLong("report-only"), help: "Only rebuild artifacts/REPORT.md from the artifacts/<id>.json already written (no run).")
    var reportOnly = false

    func run() async throws {
        let options = RunnerOptions(profile: profile, only: only, shard: shard, quiet: quiet,
                                    layout: OutputLayout(root: URL(fileURLWithPath: outDir)), renderFigures: !noRender)
        if reportOnly {
            let url = try Runner(options: options).writeReport()
            if !quiet { FileHandle.standardError.write(Data("done: rebuilt \(url.path)\n".utf8)) }
            return
        }
        let summary = try await Runner(options: options).reproduce()
        if !quiet {
            let target = shard.map { "artifacts/shards/\($0.directoryName)" } ?? "artifacts/REPORT.md"
            FileHandle.standardError.write(Data(
                "done: \(summary.computed) computed, \(summary.cached) cached -> \(target)\n".utf8))
        }
    }

    static func ids(_ text: String) throws -> [String] {
        let ids = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !ids.isEmpty else { throw ValidationError("--only needs at least one experiment id") }
        return ids
    }
}

/// `infinigen verify`: recompute quick-profile results and compare them with Tests/Golden/.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare recomputed results with the golden files in Tests/Golden/ (exit 1 on a difference).")

    @Option(help: "Comma-separated experiment ids (default: all with a golden file).", transform: ReproduceCommand.ids)
    var only: [String]?

    @Option(help: "Profile to recompute (golden files are made with quick).", transform: RunProfile.init(parsing:))
    var profile: RunProfile = .quick

    @Option(name: .customLong("golden-dir"), help: "Directory of <id>.json golden files.")
    var goldenDir: String = "Tests/Golden"

    @Flag(help: "Write the golden files from fresh results instead of comparing (`make golden`).")
    var update = false

    @Flag(name: .customLong("use-cache"), help: "Accept cached results instead of recomputing.")
    var useCache = false

    @Flag(help: "No progress line.")
    var quiet = false

    func run() async throws {
        let options = RunnerOptions(profile: profile, only: only, quiet: quiet)
        let report = try await Runner(options: options)
            .verify(goldenDirectory: URL(fileURLWithPath: goldenDir), update: update, useCache: useCache)
        for url in report.written { print("wrote \(url.path)") }
        for id in report.skipped where !update { print("\(id): no golden file, skipped") }
        for line in report.differences { print(line) }
        if !update && report.passed { print("verify: \(report.checked.joined(separator: ", ")) match the golden files") }
        try report.check()
    }
}
