import XCTest
import Model
import Numerics
import Policies
import TestSupport
@testable import Evaluation

/// Real two-tier runs on the real model (skipped when the model asset is missing).
final class OffloadRunTests: XCTestCase {
    static func model() throws -> LlamaModel { try RealModel.model() }

    static func tokens(_ n: Int) -> [Int] { SplitMix64.tokens(n, seed: 3) }

    func testFullPolicyThroughTwoTierGivesTheDenseCacheLogitsAndPositiveStats() throws {
        let model = try Self.model()
        let (prompt, steps) = (48, 6)
        let tokens = Self.tokens(prompt + steps)
        let V = model.config.vocabSize, c = model.config

        // Reference: the plain dense cache, no policy, decoded one token at a time on one
        // thread as the offload run computes (threads change summation order in sgemm).
        let (threads, blas) = (Parallel.threads, BLASRuntime.threads)
        Parallel.threads = 1
        BLASRuntime.setThreads(1)
        defer { Parallel.threads = threads; BLASRuntime.setThreads(blas) }
        let dense = model.newSequence(capacity: tokens.count)
        try model.forward([(dense, Array(tokens[0..<prompt]))], logits: .none)
        var reference: [[Float]] = []
        for t in prompt..<tokens.count { reference.append(try model.forward([(dense, [tokens[t]])])[0].array) }

        var logits: [[Float]] = []
        let method = try PolicyRegistry.make("full", model: model)
        let threadsBefore = Parallel.threads
        let r = try OffloadRun.run(model: model, method: method, spec: "full", textTokens: tokens, text: "seeded",
                                   settings: .init(prompt: prompt, generate: steps)) { _, rows in
            logits.append(rows[0].array)
        }
        XCTAssertEqual(Parallel.threads, threadsBefore, "thread settings are restored")
        XCTAssertEqual(logits.count, steps)
        for (i, row) in logits.enumerated() {
            XCTAssertEqual(row.count, V)
            let worst = zip(row, reference[i]).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertEqual(worst, 0, "decode step \(i): two-tier full cache vs dense cache, largest logit difference")
        }

        XCTAssertEqual(r.steps.count, steps)
        XCTAssertEqual(r.rows.count, steps)
        for (s, step) in r.steps.enumerated() {
            XCTAssertGreaterThan(step.seconds, 0)
            XCTAssertGreaterThan(step.computeSeconds, 0)
            XCTAssertGreaterThan(step.engineCPUSeconds, 0)
            XCTAssertGreaterThan(step.copySeconds, 0)
            XCTAssertGreaterThan(step.stallSeconds, 0, "full fetches its managed layers on demand")
            // Every layer reads every cached row: K and V, f32, of every KV head.
            XCTAssertEqual(r.rows[s], Array(repeating: Array(repeating: prompt + s, count: c.kvHeads), count: c.layers))
            XCTAssertEqual(step.bytes, Double((prompt + s) * c.layers * c.kvHeads * 2 * c.headDim * 4))
            XCTAssertEqual(step.prefetchedRows + step.demandRows, (prompt + s) * c.layers * c.kvHeads)
        }
        XCTAssertGreaterThan(r.prefillSeconds, 0)
        XCTAssertFalse(r.selectsAhead)
        // Layer 0 has no earlier layer to prefetch during; layer 1 is outside the managed
        // range and prefetched; full selects nothing ahead, so the rest is on demand.
        XCTAssertEqual(r.prefetchedShare[0], 0)
        XCTAssertEqual(r.prefetchedShare[1], 1)
        XCTAssertEqual(r.prefetchedShare[2...].max(), 0)
        XCTAssertTrue(r.label.hasPrefix("measured on "))
    }

    func testSelectAheadPolicyHasItsRowsPrefetched() throws {
        let model = try Self.model()
        let (prompt, steps) = (40, 4)
        let r = try OffloadRun.run(model: model, method: try PolicyRegistry.make("flexgen", model: model), spec: "flexgen",
                                   textTokens: Self.tokens(prompt + steps), text: "seeded",
                                   settings: .init(prompt: prompt, generate: steps))
        XCTAssertTrue(r.selectsAhead)
        XCTAssertEqual(r.prefetchedShare[0], 0)
        XCTAssertEqual(r.prefetchedShare[1...].min(), 1, "every layer after the first reads only prefetched rows")
        for (s, step) in r.steps.enumerated() {
            XCTAssertEqual(step.demandRows, (prompt + s) * model.config.kvHeads, "only layer 0 on demand")
        }
    }

    func testBatchedRunRecordsEverySequence() throws {
        let model = try Self.model()
        let settings = OffloadRun.Settings(prompt: 24, generate: 3, batch: 2)
        let r = try OffloadRun.run(model: model, method: try PolicyRegistry.make("streaming", model: model), spec: "streaming",
                                   textTokens: Self.tokens(OffloadRun.textTokensNeeded(settings)), text: "seeded",
                                   settings: settings)
        XCTAssertEqual(r.rows[0][0].count, 2 * model.config.kvHeads)
        XCTAssertEqual(r.rows[0][0], Array(repeating: 24, count: 2 * model.config.kvHeads), "layer 0 reads everything")
        XCTAssertTrue(r.steps.allSatisfy { $0.bytes > 0 && $0.seconds > 0 })
    }

    func testPackedStorageAndBadSettingsGiveOneLineErrors() throws {
        let model = try Self.model()
        if PolicyRegistry.names.contains("quant") {
            let quant = try PolicyRegistry.make("quant", model: model)
            XCTAssertThrowsError(try OffloadRun.checkTwoTier(quant, spec: "quant", config: model.config)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("quant keeps its cache in its own storage"), text)
                XCTAssertFalse(text.contains("\n"))
            }
        }
        let full = try PolicyRegistry.make("full", model: model)
        XCTAssertNoThrow(try OffloadRun.checkTwoTier(full, spec: "full", config: model.config))
        XCTAssertThrowsError(try OffloadRun.run(model: model, method: full, spec: "full", textTokens: Self.tokens(10), text: "t",
                                                settings: .init(prompt: 8, generate: 4))) { error in
            XCTAssertEqual("\(error)", "the text has 10 tokens; 1 x (8 + 4) needed")
        }
        XCTAssertThrowsError(try OffloadRun.Settings(prompt: 0, generate: 4).validate())
        XCTAssertThrowsError(try OffloadRun.Settings(prompt: 4, generate: 4, batch: 0).validate())
    }
}
