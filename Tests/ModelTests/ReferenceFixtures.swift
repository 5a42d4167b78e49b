import Foundation
import XCTest
import GGUF
@testable import Model
import Numerics

/// The numpy reference's outputs (scripts/reference/make_golden.py) and the real model,
/// loaded once for all golden tests.
enum Real {
    struct Pride: Decodable {
        struct Top: Decodable { let pos: Int; let next_id: Int; let next_logprob: Double; let top: [[Double]] }
        let token_ids: [Int]
        let next_token_logprob: [Double]
        let perplexity: Double
        let top10: [Top]
    }
    struct Batch: Decodable {
        struct Prompt: Decodable { let text: String; let ids: [Int]; let next_token_logprob: [Double] }
        let prompts: [Prompt]
    }
    struct Greedy: Decodable { let prompt: String; let prompt_ids: [Int]; let generated_ids: [Int]; let generated_text: String }

    static func fixture<T: Decodable>(_ name: String, as: T.Type) throws -> T {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: "json")!
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    nonisolated(unsafe) private static var cached: LlamaModel?
    private static let lock = NSLock()

    /// The real SmolLM2 model, or a skip when `make setup` has not run.
    static func model() throws -> LlamaModel {
        lock.lock(); defer { lock.unlock() }
        if let m = cached { return m }
        guard let path = try? Assets.modelPath(searchFrom: #filePath) else {
            throw XCTSkip("model asset missing: run `make setup`")
        }
        BLASRuntime.setThreads(2)
        Parallel.threads = 2
        let m = try LlamaModel(gguf: try GGUFFile(path: path))
        cached = m
        return m
    }

    /// log-softmax of one logits row at `id`.
    static func logprob(_ row: UnsafePointer<Float>, vocab: Int, id: Int) -> Double {
        Double(row[id]) - Kernels.logSumExp(row, vocab)
    }
}
