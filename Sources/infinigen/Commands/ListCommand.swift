import ArgumentParser
import Experiments
import Foundation

/// `infinigen list`: every registered experiment and the state of its results.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List experiments and whether their results are cached, partial, stale or not run.")

    @Option(help: "Profile whose configurations are checked: quick, default or full.",
            transform: RunProfile.init(parsing:))
    var profile: RunProfile = .default

    @Option(name: .customLong("out-dir"), help: "Root holding artifacts/ and figures/.")
    var outDir: String = "."

    func run() throws {
        let options = RunnerOptions(profile: profile, quiet: true,
                                    layout: OutputLayout(root: URL(fileURLWithPath: outDir)))
        let statuses = try Runner(options: options).status()
        if statuses.isEmpty {
            print("no experiments registered")
            return
        }
        let idWidth = max(2, statuses.map(\.id.count).max() ?? 0)
        print(pad("id", idWidth) + "  " + pad("state", 8) + "  " + pad("cached", 9) + "  " + pad("outputs", 8) + "  title")
        for s in statuses {
            let cached = s.problem == nil ? "\(s.cached)/\(s.total)" : "?"
            var line = pad(s.id, idWidth) + "  " + pad(s.state.rawValue, 8) + "  " + pad(cached, 9) + "  "
                + pad(s.outputs.rawValue, 8) + "  " + s.title
            if let problem = s.problem { line += "  [\(problem)]" }
            print(line)
        }
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
