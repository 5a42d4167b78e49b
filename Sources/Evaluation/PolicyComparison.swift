import Foundation
import Model
import Numerics
import Trace

/// Scores a token sequence teacher-forced under a KV policy with the attention probe on,
/// and compares every next-token distribution with the full cache's: the per-step
/// statistics (tokens read, link bytes, recall, mass, cosine) and per-token KL and top-1
/// agreement in one trace.
public enum PolicyComparison {
    /// Full-cache log-probabilities of a window, computed once and shared by every policy
    /// compared on it.
    public final class Reference: @unchecked Sendable {
        public let tokens: [Int]
        /// log-softmax rows, tokens.count × vocab.
        let logProbs: FloatBuffer
        let vocab: Int

        public init(model: LlamaModel, tokens: [Int]) throws {
            self.tokens = tokens
            vocab = model.config.vocabSize
            let seq = model.newSequence(capacity: tokens.count)
            logProbs = try model.forward([(seq, tokens)], logits: .all)[0]
            Self.logSoftmaxRows(logProbs, rows: tokens.count, vocab: vocab)
        }

        static func logSoftmaxRows(_ b: FloatBuffer, rows: Int, vocab: Int) {
            Parallel.forEach(rows) { r in
                let row = b.pointer + r * vocab
                let lse = Float(Kernels.logSumExp(row, vocab))
                for i in 0..<vocab { row[i] -= lse }
            }
        }
    }

    /// Runs `policy` over the reference's tokens (every position policy-managed from
    /// `policyStart`) and returns the recorder with attention and token records for the
    /// positions from `policyStart` on.
    public static func run(model: LlamaModel, reference: Reference, policy: KVPolicy,
                           policyStart: Int = 0, recorder: TraceRecorder = TraceRecorder()) throws -> TraceRecorder {
        let tokens = reference.tokens
        let probe = AttentionProbe(config: model.config, transfer: policy.transfer, recorder: recorder, capacity: tokens.count)
        let seq = model.newSequence(policy: policy, policyStart: policyStart, capacity: tokens.count, probe: probe)
        let logits = try model.forward([(seq, tokens)], logits: .all)[0]
        let V = reference.vocab
        Reference.logSoftmaxRows(logits, rows: tokens.count, vocab: V)
        let first = max(policyStart, 0)
        let count = tokens.count - 1 - first
        guard count > 0 else { return recorder }
        var records = [TokenRecord?](repeating: nil, count: count)
        records.withUnsafeMutableBufferPointer { out in
            let slots = out.baseAddress!
            Parallel.forEach(count) { i in
                let t = first + i
                let p = logits.pointer + t * V, f = reference.logProbs.pointer + t * V
                var kl = 0.0
                for j in 0..<V {
                    let lf = Double(f[j])
                    kl += exp(lf) * (lf - Double(p[j]))
                }
                let next = tokens[t + 1]
                slots[i] = TokenRecord(position: t, kl: max(kl, 0),
                                       top1Agrees: Kernels.argmax(p, V) == Kernels.argmax(f, V),
                                       nll: -Double(p[next]), nllFull: -Double(f[next]))
            }
        }
        for r in records { recorder.add(r!) }
        return recorder
    }
}
