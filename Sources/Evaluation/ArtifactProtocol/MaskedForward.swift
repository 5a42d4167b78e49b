import Foundation
import Model
import Numerics
import Policies

/// One full forward pass of the model over a whole input, with attention computed as the
/// artifact's accuracy path does: per layer and query head the full L × L score matrix,
/// the method's mask built by the artifact's conventions, added, softmax, times V. It
/// reuses the engine's weights and kernels (RMSNorm, rotary, SwiGLU, sgemm) but not its
/// attention: this is a simulation of a cache policy, not a cache, and it is kept apart
/// from the decode path on purpose.
final class MaskedForward {
    /// What the masks need besides the scores.
    struct Plan {
        var method: ArtifactMethod
        /// Layers below this read everything.
        var spare: Int
        var conventions: ArtifactConventions
        /// InfiniGen: per (layer, query head) the rows of A kept (partial columns), `cols × headDim`.
        var projections: [[Float]] = []
    }

    /// Final normalised hidden states (L × hiddenSize) and what the masks selected.
    struct Output {
        var hidden: FloatBuffer
        var statistics: MaskStatistics
    }

    let model: LlamaModel

    init(model: LlamaModel) { self.model = model }

    /// Runs `tokens` (positions 0..<L). `observe(layer, q, k, L)` sees each layer's
    /// post-rotary queries (L × qDim) and keys (L × kvDim) before attention.
    func run(tokens: [Int], plan: Plan?, observe: ((Int, UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Void)? = nil) throws -> Output {
        let c = model.config, w = model.weights
        let L = tokens.count, D = c.hiddenSize, F = c.ffnSize, d = c.headDim, H = c.heads, G = c.groupSize
        guard L >= 1 else { throw ModelError("artifact protocol: nothing to process") }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
            throw ModelError("token id \(bad) is outside the vocabulary (0..<\(c.vocabSize))")
        }
        let h = FloatBuffer(count: L * D, zeroed: false)
        let x = FloatBuffer(count: L * D, zeroed: false)
        let previous = FloatBuffer(count: L * D, zeroed: false)   // the last layer's attention input
        let q = FloatBuffer(count: L * c.qDim, zeroed: false)
        let k = FloatBuffer(count: L * c.kvDim, zeroed: false)
        let v = FloatBuffer(count: L * c.kvDim, zeroed: false)
        let att = FloatBuffer(count: L * c.qDim, zeroed: false)
        let tmp = FloatBuffer(count: L * D, zeroed: false)
        let gate = FloatBuffer(count: L * F, zeroed: false)
        let up = FloatBuffer(count: L * F, zeroed: false)
        let scores = (0..<H).map { _ in FloatBuffer(count: L * L, zeroed: false) }
        for (i, t) in tokens.enumerated() {
            h.pointer.advanced(by: i * D).update(from: w.tokenEmbedding.dense.pointer + t * D, count: D)
        }
        var layers: [MaskStatistics.Layer] = []
        var fetchMax = 0
        let scale = 1 / Float(d).squareRoot()

        for l in 0..<c.layers {
            let lw = w.layers[l]
            for r in 0..<L { Kernels.rmsNorm(h.pointer + r * D, weight: lw.attnNorm.pointer, out: x.pointer + r * D, n: D, eps: c.rmsEps) }
            lw.wq.matmul(x.pointer, m: L, q.pointer)
            lw.wk.matmul(x.pointer, m: L, k.pointer)
            lw.wv.matmul(x.pointer, m: L, v.pointer)
            for r in 0..<L {
                model.applyRotary(q.pointer + r * c.qDim, heads: H, position: r)
                model.applyRotary(k.pointer + r * c.kvDim, heads: c.kvHeads, position: r)
            }
            observe?(l, q.pointer, k.pointer, L)
            let managed = plan.map { l >= $0.spare && $0.method != .full } ?? false
            if managed, case let .quant(bits, group) = plan!.method {
                // Keys after rotary, as the artifact quantizes them.
                FakeQuantizer.apply(k.pointer, rows: L, width: c.kvDim, stride: c.kvDim, bits: bits, group: group)
                FakeQuantizer.apply(v.pointer, rows: L, width: c.kvDim, stride: c.kvDim, bits: bits, group: group)
            }
            // Full score matrices, one per query head.
            for hh in 0..<H {
                BLAS.gemmABt(m: L, n: L, k: d, a: q.pointer + hh * d, lda: c.qDim, b: k.pointer + (hh / G) * d, ldb: c.kvDim,
                             c: scores[hh].pointer, ldc: L, alpha: scale)
            }
            var masks: [HeadMask]? = nil
            var exclude = true
            if managed, let plan {
                switch plan.method {
                case .full, .quant:
                    break
                case let .infinigen(s):
                    fetchMax = Int(s.budget * Double(L))
                    exclude = plan.conventions.masking == .exclude
                    masks = infinigenMasks(layer: l, settings: s, plan: plan, input: previous, keys: k, L: L)
                case let .h2o(heavy, recent, heavyTokens, recentTokens):
                    let hv = heavyTokens > 0 ? heavyTokens : Int(heavy * Double(L))
                    let rc = recentTokens > 0 ? recentTokens : Int(recent * Double(L))
                    masks = perHead(H) { MaskBuilder.h2o(scores: scores[$0].pointer, length: L, heavy: hv, recent: rc) }
                case let .oracle(budget, kTokens):
                    let kk = kTokens > 0 ? kTokens : Int(budget * Double(L))
                    masks = perHead(H) { MaskBuilder.oracle(scores: scores[$0].pointer, length: L, k: kk) }
                }
            }
            let force = plan?.conventions.forceCurrentToken ?? false
            for hh in 0..<H {
                let s = scores[hh].pointer
                let mask = masks?[hh]
                mask?.selected.withUnsafeBufferPointer { selBuf in
                    let sel = selBuf.baseAddress!
                    Parallel.forEach(L) { i in
                        guard let mask, !mask.full[i] else { return }
                        let row = s + i * L, m = sel + i * L
                        var any = force
                        for j in 0..<i where m[j] != 0 { any = true; break }
                        if m[i] != 0 { any = true }
                        let keepOwn = force || (exclude && !any)
                        for j in 0...i where m[j] == 0 && !(j == i && keepOwn) {
                            if exclude { row[j] = -.infinity } else { row[j] += MaskBuilder.penalty }
                        }
                    }
                }
                Parallel.forEach(L) { i in
                    let row = s + i * L
                    Kernels.softmax(row, i + 1)
                    if i + 1 < L { (row + i + 1).update(repeating: 0, count: L - i - 1) }
                }
                BLAS.gemmAB(m: L, n: d, k: L, a: s, lda: L, b: v.pointer + (hh / G) * d, ldb: c.kvDim,
                            c: att.pointer + hh * d, ldc: c.qDim)
            }
            layers.append(statistics(layer: l, managed: masks != nil || (managed && isQuant(plan)), masks: masks, L: L, heads: H))

            previous.pointer.update(from: x.pointer, count: L * D)
            lw.wo.matmul(att.pointer, m: L, tmp.pointer)
            Kernels.add(h.pointer, tmp.pointer, L * D)
            for r in 0..<L { Kernels.rmsNorm(h.pointer + r * D, weight: lw.ffnNorm.pointer, out: x.pointer + r * D, n: D, eps: c.rmsEps) }
            lw.wGate.matmul(x.pointer, m: L, gate.pointer)
            lw.wUp.matmul(x.pointer, m: L, up.pointer)
            Kernels.swiglu(gate.pointer, up.pointer, L * F)
            lw.wDown.matmul(gate.pointer, m: L, tmp.pointer)
            Kernels.add(h.pointer, tmp.pointer, L * D)
        }
        for r in 0..<L { Kernels.rmsNorm(h.pointer + r * D, weight: w.outputNorm.pointer, out: x.pointer + r * D, n: D, eps: c.rmsEps) }
        return Output(hidden: x, statistics: MaskStatistics(length: L, fetchMax: fetchMax, layers: layers))
    }

    private func isQuant(_ plan: Plan?) -> Bool {
        if case .quant = plan?.method { return true }
        return false
    }

    private func perHead(_ n: Int, _ build: (Int) -> HeadMask) -> [HeadMask] {
        var out = [HeadMask?](repeating: nil, count: n)
        out.withUnsafeMutableBufferPointer { o in
            let slots = o.baseAddress!
            Parallel.forEach(n) { slots[$0] = build($0) }
        }
        return out.map { $0! }
    }

    /// InfiniGen's speculation for layer l (artifact `LlamaAttention.forward`): the previous
    /// layer's attention input times this layer's query weight, rotary, skewed per query
    /// head and cut to its partial columns; this layer's real keys skewed the same way;
    /// approximate scores scaled by 1/sqrt(headDim); the mask from them.
    private func infinigenMasks(layer l: Int, settings s: ArtifactMethod.InfiniGen, plan: Plan, input: FloatBuffer,
                                keys: FloatBuffer, L: Int) -> [HeadMask] {
        let c = model.config, d = c.headDim, H = c.heads, G = c.groupSize
        let scale = 1 / Float(d).squareRoot()
        let qs = FloatBuffer(count: L * c.qDim, zeroed: false)
        model.weights.layers[l].wq.matmul(input.pointer, m: L, qs.pointer)
        for r in 0..<L { model.applyRotary(qs.pointer + r * c.qDim, heads: H, position: r) }
        let approx = (0..<H).map { _ in FloatBuffer(count: L * L, zeroed: false) }
        for hh in 0..<H {
            let proj = plan.projections[l * H + hh]
            let cols = proj.count / d
            let qp = FloatBuffer(count: L * cols, zeroed: false), kp = FloatBuffer(count: L * cols, zeroed: false)
            proj.withUnsafeBufferPointer { p in
                BLAS.gemmABt(m: L, n: cols, k: d, a: qs.pointer + hh * d, lda: c.qDim, b: p.baseAddress!, ldb: d,
                             c: qp.pointer, ldc: cols)
                BLAS.gemmABt(m: L, n: cols, k: d, a: keys.pointer + (hh / G) * d, lda: c.kvDim,
                             b: p.baseAddress!, ldb: d, c: kp.pointer, ldc: cols)
            }
            BLAS.gemmABt(m: L, n: L, k: cols, a: qp.pointer, lda: cols, b: kp.pointer, ldb: cols, c: approx[hh].pointer,
                         ldc: L, alpha: scale)
        }
        // The buffers must outlive every use of their raw pointers: without this, Swift may
        // free them right after the last use of `approx` itself, and the masks built on
        // other threads then read memory that their own allocations reuse (seen as runs of
        // the same configuration that differ under load).
        return withExtendedLifetime(approx) {
            let pointers = approx.map { UnsafePointer($0.pointer) }
            let counts = MaskBuilder.fetchCounts(approx: pointers, length: L, alpha: Float(s.alpha),
                                                 headZeroMax: plan.conventions.headZeroMax,
                                                 groupSize: s.count == .mean ? H : G)
            let fetchMax = Int(s.budget * Double(L))
            let pool = s.pool < 1 ? MaskBuilder.Pool(capacity: Int(s.pool * Double(L)), eviction: s.eviction) : nil
            return perHead(H) {
                MaskBuilder.infinigen(approx: pointers[$0], length: L, counts: counts[$0], fetchMax: fetchMax, maxKV: s.maxKV,
                                      fullLeadingRows: plan.conventions.fullLeadingRows, pool: pool)
            }
        }
    }

    private func statistics(layer: Int, managed: Bool, masks: [HeadMask]?, L: Int, heads: Int) -> MaskStatistics.Layer {
        guard let masks else {
            return MaskStatistics.Layer(layer: layer, managed: managed, density: 1, cappedRowShare: 0, emptyRowShare: 0, evictionsPerHead: 0)
        }
        let triangle = Double(L) * Double(L + 1) / 2
        let rows = Double(heads * L)
        return MaskStatistics.Layer(
            layer: layer, managed: true,
            density: Double(masks.map(\.selectedCount).reduce(0, +)) / (Double(heads) * triangle),
            cappedRowShare: Double(masks.map(\.cappedRows).reduce(0, +)) / rows,
            emptyRowShare: Double(masks.map(\.emptyRows).reduce(0, +)) / rows,
            evictionsPerHead: Double(masks.map(\.evictions).reduce(0, +)) / Double(heads))
    }
}
