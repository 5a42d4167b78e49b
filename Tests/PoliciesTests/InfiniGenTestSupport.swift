import Foundation
import XCTest
import GGUF
import Model
import Numerics
import Tokenizer
@testable import Policies

/// InfiniGen's tests on the real model (the shared `RealModel`): calibration as the lead
/// uses it, methods from specs, teacher-forced log-probabilities.
enum InfiniGenReal {
    static func model() throws -> LlamaModel { try RealModel.model() }

    static func novelTokens(_ name: String, count: Int) throws -> [Int] { try RealModel.novelTokens(name, count: count) }

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
