import XCTest
import GGUF
import Model
import Numerics
@testable import Policies

/// The teacher-forced mode (one forward over the whole sequence) and step-by-step decode
/// must give every policy the same view: identical log-probabilities, for every
/// registered method, on the real model.
final class RunModesTests: XCTestCase {
    nonisolated(unsafe) static var shared: (LlamaModel, [Int])?

    static func setUpModel() throws -> (LlamaModel, [Int]) {
        if let s = shared { return s }
        guard let path = try? Assets.modelPath(searchFrom: #filePath) else { throw XCTSkip("model asset missing: run `make setup`") }
        Parallel.threads = 2
        BLASRuntime.setThreads(2)
        let model = try LlamaModel(gguf: try GGUFFile(path: path))
        // Same per-row arithmetic at every batch size, so the comparison is exact even for
        // the quantized cache (whose rounding turns last-bit differences into whole steps).
        model.batchInvariant = true
        // A fixed, varied token sequence (no tokenizer needed): ids from a seeded generator.
        var rng = SplitMix64(seed: 7)
        let tokens = (0..<80).map { _ in Int(rng.next() % 20000) + 100 }
        shared = (model, tokens)
        return (model, tokens)
    }

    /// Calibration for methods that need it: a different seeded sequence.
    static let context = MethodContext(calibrationTokens: {
        var rng = SplitMix64(seed: 11)
        return (0..<512).map { _ in Int(rng.next() % 20000) + 100 }
    })

    static let specs = ["full", "flexgen", "quant:bits=4", "h2o", "streaming", "quest", "oracle", "infinigen"]

    func testTeacherForcedEqualsDecodeForEveryPolicy() throws {
        let (model, tokens) = try Self.setUpModel()
        let V = model.config.vocabSize
        let names = Set(PolicyRegistry.names)
        for spec in Self.specs where names.contains(String(spec.split(separator: ":")[0])) {
            for policyStart in [0, 40] {
                let method = try PolicyRegistry.make(spec, model: model, context: Self.context)
                let tf = model.newSequence(policy: method.makePolicy(), policyStart: policyStart, capacity: tokens.count)
                let all = try model.forward([(tf, tokens)], logits: .all)[0]

                let dec = model.newSequence(policy: method.makePolicy(), policyStart: policyStart, capacity: tokens.count)
                let prompt = max(policyStart, 1)
                var rows = [try model.forward([(dec, Array(tokens[0..<prompt]))], logits: .all)[0]]
                for t in prompt..<tokens.count { rows.append(try model.forward([(dec, [tokens[t]])])[0]) }

                var worst: Float = 0
                for t in 0..<(tokens.count - 1) {
                    let a = all.pointer + t * V
                    let b = t < prompt ? rows[0].pointer + t * V : rows[t - prompt + 1].pointer
                    let la = Float(Kernels.logSumExp(a, V)), lb = Float(Kernels.logSumExp(b, V))
                    worst = max(worst, abs((a[tokens[t + 1]] - la) - (b[tokens[t + 1]] - lb)))
                }
                XCTAssertLessThan(worst, 1e-4, "\(spec) policyStart \(policyStart): teacher-forced vs decode log-prob")

                // Decode again with the cache in a two-tier store (prefetch thread, selection a
                // layer ahead where the policy allows): the same numbers, bit for bit.
                guard spec != "quant:bits=4" else { continue }   // packed storage has no two-tier form
                let c = model.config
                let twoTier = TwoTierKVStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, capacity: tokens.count)
                defer { twoTier.stop() }
                let off = model.newSequence(policy: method.makePolicy(), policyStart: policyStart, capacity: tokens.count,
                                            storage: twoTier)
                var offRows = [try model.forward([(off, Array(tokens[0..<prompt]))], logits: .all)[0]]
                for t in prompt..<tokens.count { offRows.append(try model.forward([(off, [tokens[t]])])[0]) }
                for (i, r) in offRows.enumerated() {
                    let same = (0..<r.count).allSatisfy { r[$0] == rows[i][$0] }
                    XCTAssertTrue(same, "\(spec) policyStart \(policyStart): two-tier decode step \(i) differs")
                }
            }
        }
    }
}
