import ArgumentParser
import Numerics

// OpenBLAS picks its kernel when it loads; re-exec once with the right one first.
BLASRuntime.ensureKernel()

struct Infinigen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infinigen",
        abstract: "InfiniGen workbench: a Llama engine with pluggable KV-cache policies, and the pipeline that reproduces the paper's figures.",
        subcommands: [InfoCommand.self, GenerateCommand.self, PerplexityCommand.self, BenchCommand.self,
                      SelfTestCommand.self])
}

await Infinigen.main()
