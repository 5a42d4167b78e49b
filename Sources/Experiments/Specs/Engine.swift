import Evaluation
import Foundation
import GGUF
import Model
import Numerics
import Policies
import Tokenizer

/// The loaded model and tokenizer, shared by every configuration of one invocation.
public final class Engine: @unchecked Sendable {
    public let model: LlamaModel
    public let tokenizer: BPETokenizer
    private var tokenCache: [String: [Int]] = [:]
    private let lock = NSLock()

    init(path: String) throws {
        let gguf = try GGUFFile(path: path)
        model = try LlamaModel(gguf: gguf)
        tokenizer = try BPETokenizer.from(gguf: gguf)
    }

    /// The shared engine (loaded on first use).
    public static func shared(_ context: RunContext) async throws -> Engine {
        try await context.resources.value("engine", as: Engine.self) { try Engine(path: try Assets.modelPath()) }
    }

    /// The first `count` tokens of a corpus text, tokenized once per invocation.
    public func tokens(_ text: String, count: Int, skip: Int = 0) throws -> [Int] {
        let key = "\(text)#\(skip)#\(count)"
        lock.lock(); defer { lock.unlock() }
        if let t = tokenCache[key] { return t }
        let t = try Corpus.tokens(text, tokenizer: tokenizer, count: count, skip: skip)
        guard t.count == count else { throw ExperimentError("\(text) has only \(t.count) tokens after skipping \(skip); \(count) needed") }
        tokenCache[key] = t
        return t
    }

    /// What InfiniGen's offline skewing is calibrated on: the first 2048 tokens of a novel
    /// that no experiment evaluates on.
    public var methodContext: MethodContext {
        MethodContext(calibrationTokens: { [self] in try self.tokens(Corpus.calibrationText, count: 2048) })
    }
}

/// Inputs every engine experiment depends on (their digests enter the cache keys).
enum EngineInputs {
    static func model() throws -> InputFile {
        InputFile(name: "model", url: URL(fileURLWithPath: try Assets.modelPath()))
    }

    static func text(_ name: String) throws -> InputFile {
        InputFile(name: name, url: URL(fileURLWithPath: try Corpus.path(name)))
    }
}

/// Bumped when the engine's numbers change (kernels, attention, policies' shared code):
/// old cache entries stop matching.
public let engineVersion = "engine-2"
