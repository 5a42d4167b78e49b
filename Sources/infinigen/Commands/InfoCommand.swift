import ArgumentParser
import Foundation
import GGUF
import Model
import Numerics

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Model metadata, tensor table, BLAS kernel and threads.")

    @OptionGroup var engine: EngineOptions

    @Flag(help: "List every tensor (name, shape, type, bytes).")
    var tensors = false

    func run() throws {
        engine.applyThreads()
        let path = try engine.modelPath()
        let gguf = try GGUFFile(path: path)
        let config = try LlamaConfig(gguf: gguf)
        print("model        \(path)")
        print("name         \((try? gguf.string("general.name")) ?? "?")")
        print("gguf version \(gguf.version), \(gguf.tensors.count) tensors, \(gguf.byteCount) bytes")
        print("architecture llama: \(config.layers) layers, hidden \(config.hiddenSize), heads \(config.heads) (KV \(config.kvHeads), head dim \(config.headDim)), FFN \(config.ffnSize)")
        print("             vocab \(config.vocabSize), context \(config.contextLength), RMS eps \(config.rmsEps), RoPE base \(config.ropeBase), output \(config.tiedOutput ? "tied to token_embd" : "separate")")
        let params = gguf.tensors.reduce(0) { $0 + $1.elementCount }
        print("parameters   \(String(format: "%.1f", Double(params) / 1e6)) M")
        var byType: [String: Int] = [:]
        for t in gguf.tensors { byType[t.type.name, default: 0] += 1 }
        print("tensor types \(byType.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))")
        print("BLAS         OpenBLAS kernel \(BLASRuntime.coreName) (wanted \(BLASRuntime.desiredCore(environment: ProcessInfo.processInfo.environment) ?? "library default")), \(BLASRuntime.threads) threads")
        print("             \(BLASRuntime.config)")
        print("threads      \(Parallel.threads) engine threads; CPU \(BLASRuntime.cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        if tensors {
            print("")
            print("name".padding(toLength: 28, withPad: " ", startingAt: 0) + "shape".padding(toLength: 18, withPad: " ", startingAt: 0) + "type    bytes")
            for t in gguf.tensors {
                print(t.name.padding(toLength: 28, withPad: " ", startingAt: 0)
                      + "\(t.dims)".padding(toLength: 18, withPad: " ", startingAt: 0)
                      + t.type.name.padding(toLength: 8, withPad: " ", startingAt: 0) + "\(t.byteCount)")
            }
        }
    }
}
