import ArgumentParser
import Policies

struct PoliciesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policies",
        abstract: "List the KV-cache policies with their parameters, ranges and defaults.")

    func run() throws {
        for m in PolicyRegistry.methods {
            print("\(m.name)  —  \(m.summary)")
            for p in m.parameters + [CommonParameters.spare] {
                print("    \(p.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(p.rangeDescription.padding(toLength: 22, withPad: " ", startingAt: 0)) default \(p.defaultValue)   \(p.help)")
            }
        }
        print("\nUse as name:key=value,..., e.g. infinigen run --policy infinigen:alpha=4,budget=0.2")
    }
}
