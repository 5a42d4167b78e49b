import Evaluation
import Foundation
import GGUF
import Model
import Numerics
import Tokenizer
import XCTest

/// The real model, tokenizer and task files (skips when `make setup` has not run), and
/// the numpy reference fixture (found next to this file: the test target has no resources).
enum RealAssets {
    nonisolated(unsafe) private static var cached: (LlamaModel, BPETokenizer)?
    private static let lock = NSLock()

    static func model() throws -> (model: LlamaModel, tokenizer: BPETokenizer) {
        lock.lock(); defer { lock.unlock() }
        if let c = cached { return c }
        guard let path = try? Assets.modelPath(searchFrom: #filePath) else {
            throw XCTSkip("model asset missing: run `make setup`")
        }
        BLASRuntime.setThreads(2)
        Parallel.threads = 2
        let gguf = try GGUFFile(path: path)
        let c = (try LlamaModel(gguf: gguf), try BPETokenizer.from(gguf: gguf))
        cached = c
        return c
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
