import XCTest
import GGUF
import Model
import Numerics
@testable import Policies

/// The teacher-forced mode (one forward over the whole sequence) and step-by-step decode
/// must give every policy the same view: identical logits, for every registered method,
/// on the real model.
final class RunModesTests: XCTestCase {
    /// A fixed, varied token sequence (no tokenizer needed).
    static let tokens = SplitMix64.tokens(80, seed: 7)

    /// Calibration for methods that need it: a different seeded sequence.
    static let context = MethodContext(calibrationTokens: { SplitMix64.tokens(512, seed: 11) })

    static let specs = ["full", "flexgen", "quant:bits=4", "h2o", "streaming", "quest", "oracle", "infinigen"]

    func testTeacherForcedEqualsDecodeForEveryPolicy() throws {
        // Same per-row arithmetic at every batch size, so the two modes agree bit for bit by
        // construction, even for the quantized cache (whose rounding turns last-bit
        // differences into whole steps), and under every BLAS kernel.
        let model = try RealModel.model()
        try Run.batchInvariant(model) { try compareModes(model) }
    }

    private func compareModes(_ model: LlamaModel) throws {
        let tokens = Self.tokens
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

                for t in 0..<tokens.count {
                    let a = all.pointer + t * V
                    let b = t < prompt ? rows[0].pointer + t * V : rows[t - prompt + 1].pointer
                    let same = (0..<V).allSatisfy { a[$0] == b[$0] }
                    XCTAssertTrue(same, "\(spec) policyStart \(policyStart): teacher-forced and decode logits differ at position \(t)")
                }

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
