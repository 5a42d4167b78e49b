import ArgumentParser
import Foundation
import Model
import Numerics
import Tokenizer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, streaming tokens as they come.",
        discussion: "Greedy by default; --temperature > 0 samples (top-k, then top-p) from a seeded generator, so the same seed gives the same text.")

    @OptionGroup var engine: EngineOptions

    @Argument(help: "The prompt.")
    var prompt: String

    @Option(name: [.short, .customLong("tokens")], help: "Tokens to generate (1...8192).")
    var maxTokens = 64

    @Option(help: "Sampling temperature; 0 means greedy.")
    var temperature: Float = 0

    @Option(help: "Keep the k most likely tokens before sampling (0: all).")
    var topK = 40

    @Option(help: "Nucleus sampling: keep the smallest set with this much probability (0, 1].")
    var topP: Float = 0.95

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    @Flag(help: "Wrap the prompt in the model's chat template (<|im_start|>user ... <|im_start|>assistant).")
    var chat = false

    @Flag(help: "Keep going past the end-of-sequence token.")
    var ignoreEos = false

    func validate() throws {
        guard (1...8192).contains(maxTokens) else { throw ValidationError("--tokens must be in 1...8192 (got \(maxTokens))") }
        guard temperature >= 0 && temperature.isFinite else { throw ValidationError("--temperature must be >= 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let (_, model, tokenizer) = try engine.load()
        let text = chat ? "<|im_start|>user\n\(prompt)<|im_end|>\n<|im_start|>assistant\n" : prompt
        let ids = tokenizer.encode(text, parseSpecial: chat)
        guard !ids.isEmpty else { throw CLIError("the prompt is empty") }
        guard ids.count + maxTokens <= model.config.contextLength else {
            throw CLIError("prompt (\(ids.count) tokens) plus --tokens \(maxTokens) exceeds the model's context of \(model.config.contextLength)")
        }
        var sampler: any Sampler = temperature > 0
            ? TemperatureSampler(temperature: temperature, topK: topK, topP: topP, seed: seed)
            : GreedySampler()
        let seq = model.newSequence(capacity: ids.count + maxTokens)
        if !chat { FileHandle.standardOutput.write(Data(prompt.utf8)) }
        let start = Date()
        var row = try model.forward([(seq, ids)])[0]
        let prefillTime = Date().timeIntervalSince(start)
        var stream = StreamingDecoder(tokenizer: tokenizer)
        var produced = 0
        let decodeStart = Date()
        for _ in 0..<maxTokens {
            let next = sampler.sample(row.pointer, count: model.config.vocabSize)
            produced += 1
            if !ignoreEos && next == tokenizer.eosID { break }
            FileHandle.standardOutput.write(Data(stream.push(next).utf8))
            row = try model.forward([(seq, [next])])[0]
        }
        FileHandle.standardOutput.write(Data((stream.finish() + "\n").utf8))
        let decodeTime = Date().timeIntervalSince(decodeStart)
        note(String(format: "[%d prompt tokens in %.2f s; %d generated at %.1f tokens/s]",
                    ids.count, prefillTime, produced, Double(produced) / max(decodeTime, 1e-9)))
    }
}
