import Foundation
import GGUF
import Numerics

/// A Llama-family decoder: RMSNorm, rotary embeddings (GGUF's interleaved pairs),
/// grouped-query attention over a policy-managed KV cache, SwiGLU MLP, tied or untied
/// output. `forward` is the only entry point; prefill, batched decode and teacher-forced
/// scoring are all "append these tokens to these sequences".
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let weights: LlamaWeights
    let rotary: RotaryTable
    /// Every matrix product gives each row exactly what a one-token step would (see
    /// `WeightMatrix.matmul`): decode and teacher-forced runs then agree bit for bit.
    /// Off by default (prefill is faster with sgemm).
    public var batchInvariant = false
    /// Stands in for queries when a policy selects a layer ahead (it must not read them).
    let zeroQueries: FloatBuffer

    public init(config: LlamaConfig, weights: LlamaWeights) {
        Allocator.keepLargeBlocks()
        self.config = config
        self.weights = weights
        self.rotary = RotaryTable(headDim: config.headDim, base: config.ropeBase)
        self.zeroQueries = FloatBuffer(count: config.qDim)
    }

    public convenience init(gguf: GGUFFile) throws {
        let config = try LlamaConfig(gguf: gguf)
        self.init(config: config, weights: try LlamaWeights(gguf: gguf, config: config))
    }

    public func newSequence(policy: KVPolicy? = nil, policyStart: Int = 0, capacity: Int = 256,
                            probe: AttentionProbe? = nil, storage: KVStorage? = nil) -> SequenceState {
        SequenceState(config: config, policy: policy, policyStart: policyStart, capacity: capacity, probe: probe,
                      storage: storage)
    }

    public enum Logits: Sendable { case none, last, all }

    /// Applies the model's rotary embedding for `position` to `heads` consecutive heads
    /// (for policies that rebuild queries, e.g. InfiniGen's speculation).
    public func applyRotary(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        rotary.grow(to: position + 1)
        Kernels.rope(x, heads: heads, headDim: config.headDim, cosSin: rotary.at(position))
    }

    /// Appends `tokens` to each sequence and runs them through the model. Returns, per
    /// input, the logits asked for: `.last` one row of `vocabSize`, `.all` one row per token.
    @discardableResult
    public func forward(_ batch: [(sequence: SequenceState, tokens: [Int])], logits: Logits = .last) throws -> [FloatBuffer] {
        let c = config
        var chunks: [Chunk] = []
        var rows = 0
        for (i, item) in batch.enumerated() {
            guard !item.tokens.isEmpty else { throw ModelError("sequence \(i): nothing to process") }
            if let bad = item.tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
                throw ModelError("token id \(bad) is outside the vocabulary (0..<\(c.vocabSize))")
            }
            chunks.append(Chunk(sequence: item.sequence, row0: rows, count: item.tokens.count,
                                position0: item.sequence.length))
            rows += item.tokens.count
        }
        let maxPosition = chunks.map { $0.position0 + $0.count }.max() ?? 0
        rotary.grow(to: maxPosition)
        for ch in chunks {
            ch.sequence.storage.reserve(ch.position0 + ch.count)
            ch.sequence.probe?.mirror.reserve(ch.position0 + ch.count)
        }

        let D = c.hiddenSize, F = c.ffnSize
        let h = FloatBuffer(count: rows * D, zeroed: false)      // residual stream
        let x = FloatBuffer(count: rows * D, zeroed: false)      // normalised input
        let q = FloatBuffer(count: rows * c.qDim, zeroed: false)
        let k = FloatBuffer(count: rows * c.kvDim, zeroed: false)
        let v = FloatBuffer(count: rows * c.kvDim, zeroed: false)
        let att = FloatBuffer(count: rows * c.qDim, zeroed: false)
        let tmp = FloatBuffer(count: rows * D, zeroed: false)
        let gate = FloatBuffer(count: rows * F, zeroed: false)
        let up = FloatBuffer(count: rows * F, zeroed: false)

        // Token embeddings.
        var r = 0
        for item in batch {
            for t in item.tokens {
                h.pointer.advanced(by: r * D).update(from: weights.tokenEmbedding.dense.pointer + t * D, count: D)
                r += 1
            }
        }

        for l in 0..<c.layers {
            let w = weights.layers[l]
            // Attention block.
            for r in 0..<rows {
                Kernels.rmsNorm(h.pointer + r * D, weight: w.attnNorm.pointer, out: x.pointer + r * D, n: D, eps: c.rmsEps)
            }
            w.wq.matmul(x.pointer, m: rows, q.pointer, batchInvariant: batchInvariant)
            w.wk.matmul(x.pointer, m: rows, k.pointer, batchInvariant: batchInvariant)
            w.wv.matmul(x.pointer, m: rows, v.pointer, batchInvariant: batchInvariant)
            for ch in chunks {
                for i in 0..<ch.count {
                    let cs = rotary.at(ch.position0 + i), row = ch.row0 + i
                    Kernels.rope(q.pointer + row * c.qDim, heads: c.heads, headDim: c.headDim, cosSin: cs)
                    Kernels.rope(k.pointer + row * c.kvDim, heads: c.kvHeads, headDim: c.headDim, cosSin: cs)
                    ch.sequence.storage.write(layer: l, position: ch.position0 + i,
                                              keys: k.pointer + row * c.kvDim, values: v.pointer + row * c.kvDim)
                    ch.sequence.probe?.mirror.write(layer: l, position: ch.position0 + i,
                                                    keys: k.pointer + row * c.kvDim, values: v.pointer + row * c.kvDim)
                }
            }
            attention(layer: l, chunks: chunks, x: x, q: q, k: k, v: v, out: att)
            w.wo.matmul(att.pointer, m: rows, tmp.pointer, batchInvariant: batchInvariant)
            Kernels.add(h.pointer, tmp.pointer, rows * D)

            // MLP block.
            for r in 0..<rows {
                Kernels.rmsNorm(h.pointer + r * D, weight: w.ffnNorm.pointer, out: x.pointer + r * D, n: D, eps: c.rmsEps)
            }
            w.wGate.matmul(x.pointer, m: rows, gate.pointer, batchInvariant: batchInvariant)
            w.wUp.matmul(x.pointer, m: rows, up.pointer, batchInvariant: batchInvariant)
            Kernels.swiglu(gate.pointer, up.pointer, rows * F)
            w.wDown.matmul(gate.pointer, m: rows, tmp.pointer, batchInvariant: batchInvariant)
            Kernels.add(h.pointer, tmp.pointer, rows * D)
        }
        for ch in chunks { ch.sequence.length = ch.position0 + ch.count }

        // Output head, only for the rows asked for, in one matrix product.
        guard logits != .none else { return [] }
        var picked: [(row: Int, count: Int)] = []
        var n = 0
        for ch in chunks {
            let count = logits == .all ? ch.count : 1
            let first = logits == .all ? ch.row0 : ch.row0 + ch.count - 1
            for i in 0..<count {
                Kernels.rmsNorm(h.pointer + (first + i) * D, weight: weights.outputNorm.pointer,
                                out: x.pointer + (n + i) * D, n: D, eps: c.rmsEps)
            }
            picked.append((n, count))
            n += count
        }
        let all = FloatBuffer(count: n * c.vocabSize, zeroed: false)
        weights.output.matmul(x.pointer, m: n, all.pointer, batchInvariant: batchInvariant)
        if picked.count == 1 { return [all] }
        let outputs = picked.map { p -> FloatBuffer in
            let out = FloatBuffer(count: p.count * c.vocabSize, zeroed: false)
            out.pointer.update(from: all.pointer + p.row * c.vocabSize, count: p.count * c.vocabSize)
            return out
        }
        return outputs
    }
}

/// Rows of one sequence inside a forward call.
struct Chunk {
    let sequence: SequenceState
    let row0: Int
    let count: Int
    let position0: Int
}
