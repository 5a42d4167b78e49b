import Foundation
import Model
import Numerics

/// InfiniGen's offline skewing (paper section 4.2, docs/infinigen.md 1.1), adapted to
/// grouped-query attention: per layer and KV group, the group's query heads share one
/// orthogonal matrix A, the right singular vectors of their stacked post-rotary
/// calibration queries (groupSize·n × headDim), so that a single skewed key cache serves
/// the whole group. Q'K'ᵀ = QAAᵀKᵀ = QKᵀ, while the energy of Q' (and, through the
/// attention it must reproduce, K') gathers in a few columns.
///
/// Columns of A are in descending singular value order. The artifact orders them by
/// σ_q·σ_k ascending; the order changes nothing, since partial columns are picked by
/// magnitude.
///
/// Besides A, the calibration keeps the per-column mean magnitudes and energies of Q and
/// K, both skewed and raw, so any partial-column variant (and the no-skew ablation) is a
/// cheap choice over stored numbers.
public final class SkewingCalibration: @unchecked Sendable {
    /// One (layer, KV group).
    public struct Group: Sendable {
        /// Row c is column c of A (headDim × headDim): q'_c = q · row c.
        public let columnsOfA: [Float]
        /// Singular values of the stacked queries, descending.
        public let sigma: [Float]
        /// Mean |·| per column over calibration tokens (and the group's query heads).
        public let queryMagnitude: [Float], keyMagnitude: [Float]
        public let rawQueryMagnitude: [Float], rawKeyMagnitude: [Float]
        /// Mean square per column of the queries, after and before skewing.
        public let queryEnergy: [Float], rawQueryEnergy: [Float]
    }

    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public let tokenCount: Int
    /// Index `layer * kvHeads + group`.
    public let groups: [Group]
    /// Wall time of the whole calibration, and of its forward pass alone.
    public let seconds: Double
    public let forwardSeconds: Double

    init(layers: Int, kvHeads: Int, headDim: Int, tokenCount: Int, groups: [Group], seconds: Double,
         forwardSeconds: Double) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.tokenCount = tokenCount
        self.groups = groups
        self.seconds = seconds
        self.forwardSeconds = forwardSeconds
    }

    public func group(layer: Int, kvHead: Int) -> Group { groups[layer * kvHeads + kvHead] }

    /// Share of the query energy held by the `fraction` strongest columns of one group,
    /// after (`skewed`) or before skewing.
    public func energyShare(layer: Int, kvHead: Int, fraction: Double, skewed: Bool) -> Double {
        let g = group(layer: layer, kvHead: kvHead)
        let e = (skewed ? g.queryEnergy : g.rawQueryEnergy).map(Double.init).sorted(by: >)
        let top = max(1, Int(Double(headDim) * fraction))
        let total = e.reduce(0, +)
        return total > 0 ? e.prefix(top).reduce(0, +) / total : 0
    }

    /// Mean of `energyShare` over the given layers and every group.
    public func meanEnergyShare(layers range: Range<Int>? = nil, fraction: Double, skewed: Bool) -> Double {
        let range = range ?? 0..<layers
        var sum = 0.0
        for l in range { for g in 0..<kvHeads { sum += energyShare(layer: l, kvHead: g, fraction: fraction, skewed: skewed) } }
        return sum / Double(max(1, range.count * kvHeads))
    }

    /// Runs `model` over `tokens` with a recording policy and decomposes every group.
    ///
    /// The right singular vectors of the stacked queries M are taken as the eigenvectors
    /// of MᵀM (`ssyevd` on a headDim² matrix): the same vectors as `sgesdd` on M, about
    /// ten times cheaper. Float rounding of MᵀM blurs only the weakest directions, which
    /// the partial columns never keep, and A stays orthogonal to float precision.
    public static func compute(model: LlamaModel, tokens: [Int]) throws -> SkewingCalibration {
        let start = Date()
        let c = model.config
        let n = tokens.count, d = c.headDim, G = c.groupSize, R = G * n
        guard n >= d else {
            throw PolicyError("infinigen: calibration text has \(n) tokens; skewing needs at least \(d)")
        }
        let recorder = CalibrationRecorder(config: c, tokens: n)
        let sequence = model.newSequence(policy: recorder, policyStart: Int.max, capacity: n)
        try model.forward([(sequence, tokens)], logits: .none)
        let forwardSeconds = Date().timeIntervalSince(start)

        var groups: [Group] = []
        groups.reserveCapacity(c.layers * c.kvHeads)
        let q = FloatBuffer(count: n * c.qDim, zeroed: false)
        // Transposed (column-major) layouts: one row per head dimension, so per-column
        // statistics read contiguous rows.
        let stackedT = FloatBuffer(count: d * R, zeroed: false)     // Mᵀ: d × G·n
        let keysT = FloatBuffer(count: d * n, zeroed: false)        // Kᵀ: d × n
        let skewedQT = FloatBuffer(count: d * R, zeroed: false)     // (MA)ᵀ
        let skewedKT = FloatBuffer(count: d * n, zeroed: false)     // (KA)ᵀ
        var gram = [Float](repeating: 0, count: d * d)
        for l in 0..<c.layers {
            // Post-rotary queries, recomputed from the recorded inputs as the engine does.
            let wq = model.weights.layers[l].wq.dense
            BLAS.gemmABt(m: n, n: c.qDim, k: c.hiddenSize, a: recorder.inputs[l].pointer, lda: c.hiddenSize,
                         b: wq.pointer, ldb: c.hiddenSize, c: q.pointer, ldc: c.qDim)
            for t in 0..<n { model.applyRotary(q.pointer + t * c.qDim, heads: c.heads, position: t) }
            let keys = recorder.keys[l].pointer
            for g in 0..<c.kvHeads {
                for t in 0..<n {
                    for j in 0..<G {
                        let src = q.pointer + t * c.qDim + (g * G + j) * d
                        for i in 0..<d { stackedT[i * R + j * n + t] = src[i] }
                    }
                    for i in 0..<d { keysT[i * n + t] = keys[t * c.kvDim + g * d + i] }
                }
                gram.withUnsafeMutableBufferPointer { gp in
                    BLAS.gemmABt(m: d, n: d, k: R, a: stackedT.pointer, lda: R, b: stackedT.pointer, ldb: R,
                                 c: gp.baseAddress!, ldc: d)
                }
                let eigen = try LAPACK.symmetricEigen(gram, n: d)
                // Eigenvalues ascend; A's columns go by descending singular value.
                var columnsOfA = [Float](repeating: 0, count: d * d)
                for col in 0..<d {
                    let src = d - 1 - col
                    for i in 0..<d { columnsOfA[col * d + i] = eigen.vectors[src * d + i] }
                }
                let sigma = (0..<d).map { Float(max(eigen.values[d - 1 - $0], 0)).squareRoot() }
                // (MA)ᵀ = Aᵀ Mᵀ and (KA)ᵀ = Aᵀ Kᵀ; `columnsOfA` read row-major is Aᵀ.
                columnsOfA.withUnsafeBufferPointer { a in
                    BLAS.gemmAB(m: d, n: R, k: d, a: a.baseAddress!, lda: d, b: stackedT.pointer, ldb: R,
                                c: skewedQT.pointer, ldc: R)
                    BLAS.gemmAB(m: d, n: n, k: d, a: a.baseAddress!, lda: d, b: keysT.pointer, ldb: n,
                                c: skewedKT.pointer, ldc: n)
                }
                groups.append(Group(
                    columnsOfA: columnsOfA, sigma: sigma,
                    queryMagnitude: rowMeans(skewedQT, rows: d, cols: R, abs),
                    keyMagnitude: rowMeans(skewedKT, rows: d, cols: n, abs),
                    rawQueryMagnitude: rowMeans(stackedT, rows: d, cols: R, abs),
                    rawKeyMagnitude: rowMeans(keysT, rows: d, cols: n, abs),
                    queryEnergy: rowMeans(skewedQT, rows: d, cols: R) { $0 * $0 },
                    rawQueryEnergy: rowMeans(stackedT, rows: d, cols: R) { $0 * $0 }))
            }
        }
        return SkewingCalibration(layers: c.layers, kvHeads: c.kvHeads, headDim: d, tokenCount: n,
                                  groups: groups, seconds: Date().timeIntervalSince(start), forwardSeconds: forwardSeconds)
    }

    /// Per row of a row-major matrix, the mean of `f` over its columns (in Double).
    private static func rowMeans(_ m: FloatBuffer, rows: Int, cols: Int, _ f: (Float) -> Float) -> [Float] {
        (0..<rows).map { r in
            let row = m.pointer + r * cols
            var sum = 0.0
            for j in 0..<cols { sum += Double(f(row[j])) }
            return Float(sum / Double(cols))
        }
    }
}
