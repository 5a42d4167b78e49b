import Foundation
import XCTest
import Numerics

/// The numpy reference's outputs (scripts/reference/make_golden.py), for the golden tests
/// on the shared `RealModel`.
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

    /// log-softmax of one logits row at `id`.
    static func logprob(_ row: UnsafePointer<Float>, vocab: Int, id: Int) -> Double {
        Double(row[id]) - Kernels.logSumExp(row, vocab)
    }
}
