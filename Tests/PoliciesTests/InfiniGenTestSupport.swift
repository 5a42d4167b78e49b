import Foundation
import XCTest
import GGUF
import Model
import Numerics
import Tokenizer
@testable import Policies

/// The real model and texts for InfiniGen's tests, loaded once; a skip when the assets
/// are absent.
enum InfiniGenReal {
    nonisolated(unsafe) private static var cached: (model: LlamaModel, tokenizer: BPETokenizer)?
    nonisolated(unsafe) private static var texts: [String: [Int]] = [:]
    private static let lock = NSLock()

    static func model() throws -> LlamaModel { try load().model }

    private static func load() throws -> (model: LlamaModel, tokenizer: BPETokenizer) {
        lock.lock(); defer { lock.unlock() }
        if let c = cached { return c }
        guard let path = try? Assets.modelPath(searchFrom: #filePath) else {
            throw XCTSkip("model asset missing: run `make setup`")
        }
        BLASRuntime.setThreads(2)
        Parallel.threads = 2
        let file = try GGUFFile(path: path)
        let c = (try LlamaModel(gguf: file), try BPETokenizer.from(gguf: file))
        cached = c
        return c
    }

    /// The first `count` tokens of a novel from the asset cache.
    static func novelTokens(_ name: String, count: Int) throws -> [Int] {
        let tokenizer = try load().tokenizer
        lock.lock(); defer { lock.unlock() }
        if let t = texts[name], t.count >= count { return Array(t.prefix(count)) }
        guard let path = try? Assets.novelPath(name, searchFrom: #filePath) else {
            throw XCTSkip("text asset \(name) missing: run `make setup`")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // Characters per token stay below 8 in English prose.
        let tokens = tokenizer.encode(String(text.prefix(count * 8)))
        guard tokens.count >= count else { throw XCTSkip("\(name) is shorter than \(count) tokens") }
        texts[name] = tokens
        return Array(tokens.prefix(count))
    }

    /// Calibration text as the lead uses it: 2048 tokens of a novel (not the one scored).
    static func calibrationContext() -> MethodContext {
        MethodContext(calibrationTokens: { try novelTokens("emma", count: 2048) })
    }

    static func method(_ spec: String) throws -> InfiniGenMethod {
        let m = try PolicyRegistry.make(spec, model: try model(), context: calibrationContext())
        return m as! InfiniGenMethod
    }

    /// Teacher-forced next-token log-probabilities of `tokens` under `policy`.
    static func logProbs(_ tokens: [Int], policy: KVPolicy) throws -> [Double] {
        let model = try model()
        let seq = model.newSequence(policy: policy, policyStart: 0, capacity: tokens.count)
        let logits = try model.forward([(seq, tokens)], logits: .all)[0]
        let V = model.config.vocabSize
        return (0..<(tokens.count - 1)).map { t in
            Double(logits[t * V + tokens[t + 1]]) - Kernels.logSumExp(logits.pointer + t * V, V)
        }
    }
}
