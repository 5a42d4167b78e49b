import ArgumentParser
import Experiments
import Foundation

/// `infinigen merge`: combine shard outputs into the final artifacts.
struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Import shard results (artifacts/shards/<i>-of-<n>/) and write the final outputs.",
        discussion: "Each DIR is a shard directory or a directory containing shard directories.")

    @Option(parsing: .upToNextOption, help: "Shard directories (or their parent).")
    var shards: [String]

    @Option(name: .customLong("out-dir"), help: "Root for artifacts/ and figures/.")
    var outDir: String = "."

    @Flag(name: .customLong("no-render"), help: "Write .gp/.dat but do not run gnuplot.")
    var noRender = false

    @Flag(help: "No progress line.")
    var quiet = false

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("--shards needs at least one directory") }
    }

    func run() async throws {
        let options = RunnerOptions(quiet: quiet, layout: OutputLayout(root: URL(fileURLWithPath: outDir)),
                                    renderFigures: !noRender)
        let summary = try await Runner(options: options).merge(shardDirectories: shards.map { URL(fileURLWithPath: $0) })
        if !quiet {
            FileHandle.standardError.write(Data("merged \(summary.cached) results -> artifacts/REPORT.md\n".utf8))
        }
    }
}
