import ArgumentParser
import Foundation
import GGUF
import Model
import Numerics
import Tokenizer

/// Options every command that runs the model shares.
struct EngineOptions: ParsableArguments {
    @Option(help: "GGUF model file (default: the SmolLM2 file in the asset cache, see `make setup`).")
    var model: String?

    @Option(help: "Threads for matrix products and attention (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be in 1...256 (got \(threads))")
        }
    }

    var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    func applyThreads() {
        Parallel.threads = threadCount
        BLASRuntime.setThreads(threadCount)
    }

    func modelPath() throws -> String {
        if let model {
            guard FileManager.default.fileExists(atPath: model) else { throw CLIError("model file not found: \(model)") }
            return model
        }
        return try Assets.modelPath()
    }

    /// Loads the GGUF file, the model and its tokenizer.
    func load() throws -> (gguf: GGUFFile, model: LlamaModel, tokenizer: BPETokenizer) {
        applyThreads()
        let gguf = try GGUFFile(path: try modelPath())
        let model = try LlamaModel(gguf: gguf)
        let tokenizer = try BPETokenizer.from(gguf: gguf)
        return (gguf, model, tokenizer)
    }
}

/// A one-line error for the user; ArgumentParser prints it and exits non-zero.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Progress and notes go to stderr so stdout stays clean for results.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
