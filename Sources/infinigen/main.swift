import ArgumentParser

// Temporary root for the report branch's own testing; the lead's main.swift replaces it.
// The availability annotation makes ArgumentParser pick the async `main()`; without it
// async subcommands fail at run time ("Asynchronous root command needs availability annotation").
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
struct Infinigen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infinigen",
        abstract: "InfiniGen reproduction workbench.",
        subcommands: [ListCommand.self, ReproduceCommand.self, VerifyCommand.self, MergeCommand.self])
}

// Top-level code picks ParsableCommand's synchronous main(); an async function picks the
// async one, which async subcommands need.
func runAsyncMain<Root: AsyncParsableCommand>(_ root: Root.Type) async { await root.main(nil) }
await runAsyncMain(Infinigen.self)
