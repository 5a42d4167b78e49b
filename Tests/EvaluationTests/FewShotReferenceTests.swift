import Foundation
import XCTest
@testable import Evaluation

/// The engine's full-cache few-shot scores against scripts/reference/fewshot_ref.py (numpy,
/// whole sequence recomputed per choice, no KV cache), item by item.
final class FewShotReferenceTests: XCTestCase {
    /// Items per task scored by the engine here. The fixture holds 50; all 50 pass too
    /// (max |Δ| 6e-5) but take minutes; `make test` scores 8 (INFINIGEN_FEWSHOT_GOLDEN_ITEMS=50: all).
    static let itemsPerTask = Int(ProcessInfo.processInfo.environment["INFINIGEN_FEWSHOT_GOLDEN_ITEMS"] ?? "") ?? 8

    /// Prompts: the Python rules and the Swift loader agree (gold, example rows, lengths),
    /// before any model runs.
    func testFixturePromptsMatchTheLoader() throws {
        let fixture = try ReferenceFixture.load()
        XCTAssertEqual(fixture.shots, 5)
        for name in Tasks.names {
            let ref = try XCTUnwrap(fixture.tasks[name], "fixture lacks \(name)")
            XCTAssertEqual(ref.items.count, fixture.items_per_task, name)
            let task = try RealAssets.task(name, limit: ref.items.count)
            for (item, r) in zip(task.evaluatedItems, ref.items) {
                XCTAssertEqual(item.id, r.id, name)
                XCTAssertEqual(item.gold, r.gold, "\(name) \(r.id)")
                XCTAssertEqual(item.continuations.map { $0.unicodeScalars.count }, r.continuation_chars, "\(name) \(r.id)")
                if let examples = r.examples {
                    XCTAssertEqual(try TasksSampler.examples(for: item.id, rowCount: task.items.count, shots: 5), examples,
                                   "\(name) \(r.id): example rows")
                }
            }
        }
    }

    func testFullCacheScoresMatchReference() throws {
        try RealAssets.releaseOnly()
        let fixture = try ReferenceFixture.load()
        let (model, tokenizer) = try RealAssets.model()
        var worst = 0.0, worstAt = "", compared = 0
        var summary: [String] = []
        for name in Tasks.names {
            let ref = try XCTUnwrap(fixture.tasks[name])
            let n = min(Self.itemsPerTask, ref.items.count)
            let task = try RealAssets.task(name, limit: n)
            let result = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task)
            XCTAssertEqual(result.records.count, n)
            var taskWorst = 0.0
            for (got, want) in zip(result.records, ref.items) {
                let at = "\(name) item \(want.id)"
                XCTAssertEqual(got.id, want.id, at)
                XCTAssertEqual(got.tokenCounts, want.token_counts, "\(at): tokenization")
                XCTAssertEqual(got.predicted, want.predicted, "\(at): prediction")
                XCTAssertEqual(got.predictedNorm, want.predicted_norm, "\(at): per-character prediction")
                for (a, b) in zip(got.loglikelihoods, want.loglikelihoods) {
                    XCTAssertEqual(a, b, accuracy: 2e-3, "\(at): log-likelihood")
                    taskWorst = max(taskWorst, abs(a - b))
                    if abs(a - b) > worst { worst = abs(a - b); worstAt = at }
                    compared += 1
                }
            }
            summary.append(name + String(format: " %d items acc %.2f max|Δ| %.2e %.2f s", n,
                                  result.accuracy.value, taskWorst, result.seconds))
        }
        print("few-shot vs reference (\(fixture.dtype)): \(compared) log-likelihoods, max |Δ| "
              + String(format: "%.3e", worst) + " at \(worstAt); " + summary.joined(separator: "; "))
    }
}
