import Foundation
import Model
import Policies
import XCTest
@testable import Evaluation

/// Scoring paths that must agree with each other, and the policy plumbing.
final class FewShotScoringTests: XCTestCase {
    /// A policy that lets every query read only its own token (from layer 0).
    final class OwnTokenOnly: KVPolicy {
        let name = "own-token-only"
        var firstManagedLayer: Int { 0 }
        func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {
            for h in selection.positions.indices { selection.positions[h] = [] }
        }
        func fork() -> KVPolicy { OwnTokenOnly() }
    }

    private func assertClose(_ a: FewShotResult, _ b: FewShotResult, _ tolerance: Double, _ what: String) {
        XCTAssertEqual(a.records.count, b.records.count, what)
        for (x, y) in zip(a.records, b.records) {
            XCTAssertEqual(x.tokenCounts, y.tokenCounts, what)
            XCTAssertEqual(x.predicted, y.predicted, "\(what): item \(x.id)")
            for (p, q) in zip(x.loglikelihoods, y.loglikelihoods) {
                XCTAssertEqual(p, q, accuracy: tolerance, "\(what): item \(x.id)")
            }
        }
    }

    func testBatchingAndDeterminism() throws {
        try RealAssets.releaseOnly()
        let (model, tokenizer) = try RealAssets.model()
        for name in ["openbookqa", "winogrande"] {
            let task = try RealAssets.task(name, limit: 3)
            var seen: [(Int, Int)] = []
            let base = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task, maxBatchTokens: 4096,
                                            progress: { seen.append(($0, $1)) })
            XCTAssertEqual(seen.last?.0, 3)
            XCTAssertTrue(seen.allSatisfy { $0.1 == 3 })
            XCTAssertEqual(seen.map(\.0), seen.map(\.0).sorted())
            let again = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task, maxBatchTokens: 4096)
            XCTAssertEqual(again.records, base.records, "\(name): bit-identical rerun")
            let single = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task, maxBatchTokens: 1)
            XCTAssertEqual(single.forwardCalls, 6, "one item per round: its shared prefix, then its choices' rest")
            assertClose(single, base, 1e-3, "\(name): one item per forward")
        }
    }

    func testPolicyIsUsedFromPolicyStart() throws {
        try RealAssets.releaseOnly()
        let (model, tokenizer) = try RealAssets.model()
        let task = try RealAssets.task("copa", limit: 2)
        let full = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task)
        let method = try PolicyRegistry.make("full", model: model)
        let viaPolicy = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task, makePolicy: { method.makePolicy() })
        assertClose(viaPolicy, full, 1e-4, "full policy")

        var made = 0
        let blind = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task,
                                         makePolicy: { made += 1; return OwnTokenOnly() })
        XCTAssertEqual(made, 2, "one policy per item, forked for its choices")
        made = 0
        _ = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task,
                                 makePolicy: { made += 1; return OwnTokenOnly() }, sharePrefix: false)
        XCTAssertEqual(made, 4, "from scratch: one policy per choice sequence")
        let shift = zip(blind.records, full.records).map { abs($0.loglikelihoods[0] - $1.loglikelihoods[0]) }.max()!
        XCTAssertGreaterThan(shift, 1, "a policy that reads nothing must change the scores")

        // Positions before policyStart read everything: past the end, the policy never acts.
        let late = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task,
                                        makePolicy: { OwnTokenOnly() }, policyStart: 100_000)
        assertClose(late, full, 1e-4, "policyStart past the end")
        XCTAssertThrowsError(try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task, policyStart: -1))
    }

    /// Scoring each item's shared prefix once and forking it per choice gives, bit for bit,
    /// the scores of each choice from scratch, under every registered method (one example
    /// spec each; batch-invariant products so that batching cannot change a bit). COPA and
    /// OpenBookQA share the whole context; WinoGrande's contexts part at the blank.
    func testSharedPrefixEqualsFromScratchForEveryMethod() throws {
        try RealAssets.releaseOnly()
        let (model, tokenizer) = try RealAssets.model()
        model.batchInvariant = true
        defer { model.batchInvariant = false }
        let calibration = MethodContext(calibrationTokens: { (0..<512).map { 100 + ($0 * 7919) % 20000 } })
        let tasks = [try RealAssets.task("copa", limit: 2), try RealAssets.task("openbookqa", limit: 1),
                     try RealAssets.task("winogrande", limit: 1)]
        for type in PolicyRegistry.methods {
            guard let spec = type.examples.specs.first else { XCTFail("method \(type.name) declares no examples"); continue }
            let method = try PolicyRegistry.make(spec, model: model, context: calibration)
            for task in tasks {
                let scratch = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task,
                                                   makePolicy: { method.makePolicy() }, sharePrefix: false)
                let shared = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task,
                                                  makePolicy: { method.makePolicy() })
                XCTAssertEqual(shared.records, scratch.records, "\(spec) on \(task.name): shared prefix differs from scratch")
                XCTAssertLessThan(shared.tokensProcessed, scratch.tokensProcessed, "\(task.name): nothing shared")
            }
        }
    }
}
