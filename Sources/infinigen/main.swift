import ArgumentParser
import Experiments
import Foundation
import Numerics
import Report

// OpenBLAS picks its kernel when it loads; re-exec once with the right one first.
BLASRuntime.ensureKernel()

// Threads: all cores unless INFINIGEN_THREADS (or a command's --threads) says otherwise.
let defaultThreads = Int(ProcessInfo.processInfo.environment["INFINIGEN_THREADS"] ?? "")
    .flatMap { (1...256).contains($0) ? $0 : nil } ?? ProcessInfo.processInfo.activeProcessorCount
Parallel.threads = defaultThreads
BLASRuntime.setThreads(defaultThreads)
ExperimentRegistry.shared.blas = Provenance.BLAS(kernel: BLASRuntime.coreName, threads: defaultThreads)
do {
    try Catalog.registerAll()
} catch {
    FileHandle.standardError.write(Data("infinigen: \(error)\n".utf8))
    exit(1)
}

// The availability annotation makes ArgumentParser pick the async `main()`; without it
// async subcommands fail at run time ("Asynchronous root command needs availability annotation").
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
struct Infinigen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infinigen",
        abstract: "InfiniGen workbench: a Llama engine with pluggable KV-cache policies, and the pipeline that reproduces the paper's figures.",
        subcommands: [InfoCommand.self, GenerateCommand.self, PerplexityCommand.self, RunCommand.self, PoliciesCommand.self, BenchCommand.self, OffloadRunCommand.self,
                      ListCommand.self, ReproduceCommand.self, VerifyCommand.self, MergeCommand.self,
                      SelfTestCommand.self, BLASCoreCommand.self, SimulateCommand.self, ProfileCommand.self])
}

// Top-level code picks ParsableCommand's synchronous main(); an async function picks the
// async one, which async subcommands need.
func runAsyncMain<Root: AsyncParsableCommand>(_ root: Root.Type) async { await root.main(nil) }
await runAsyncMain(Infinigen.self)
