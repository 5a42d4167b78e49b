import Evaluation
import Foundation
import Model
import TestSupport
import Tokenizer
import XCTest

/// The shared real model and tokenizer, the task files (skips when `make setup` has not
/// run), and the numpy reference fixture (found next to this file: the test target has no resources).
enum RealAssets {
    static func model() throws -> (model: LlamaModel, tokenizer: BPETokenizer) {
        (try RealModel.model(), try RealModel.tokenizer())
    }

    static var tasksDirectory: URL {
        Assets.cacheDirectory(searchFrom: #filePath).appendingPathComponent("tasks", isDirectory: true)
    }

    /// A task from the cache, or a skip when the task files are absent.
    static func task(_ name: String, shots: Int = 5, limit: Int? = nil) throws -> FewShotTask {
        let probe = name == "copa" || name == "rte" ? "\(name)_validation.jsonl" : "\(name)_rc_\(shots)shot.jsonl"
        guard FileManager.default.fileExists(atPath: tasksDirectory.appendingPathComponent(probe).path) else {
            throw XCTSkip("task file \(probe) missing: run `make setup`")
        }
        return try Tasks.load(name, shots: shots, limit: limit, directory: tasksDirectory)
    }

    static func releaseOnly() throws {
        #if DEBUG
        throw XCTSkip("real-model scoring runs in release: swift test -c release -Xswiftc -enable-testing")
        #endif
    }
}

/// scripts/reference/fewshot_ref.py's output.
struct ReferenceFixture: Decodable {
    struct Item: Decodable {
        let id: Int
        let gold: Int
        let loglikelihoods: [Double]
        let predicted: Int
        let predicted_norm: Int
        let token_counts: [[Int]]
        let continuation_chars: [Int]
        let examples: [Int]?
    }
    struct Task: Decodable { let items: [Item] }
    let dtype: String
    let shots: Int
    let items_per_task: Int
    let tasks: [String: Task]

    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fewshot_reference.json")

    static func load() throws -> ReferenceFixture {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw FewShotError("missing \(url.path): run scripts/reference/fewshot_ref.py")
        }
        return try JSONDecoder().decode(ReferenceFixture.self, from: data)
    }
}
