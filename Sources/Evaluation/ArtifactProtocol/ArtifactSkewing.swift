import Foundation
import Model
import Numerics
import Policies

/// InfiniGen's skewing as the artifact's accuracy path builds it
/// (accuracy/setup/gen_llama_skewing_matrix.py, modeling_llama_ours_setup.py): per layer
/// and *query head*, A = the right singular vectors of that head's post-rotary
/// calibration queries, applied after rotary to the query and to its group's keys; the
/// partial columns are chosen from the mean |Q'| and |K'| per column over a short fixed
/// prompt. `perGroup` takes A from the decode path's `SkewingCalibration` instead (one per
/// KV group).
public final class ArtifactSkewing: @unchecked Sendable {
    public struct Head: Sendable {
        /// Row c is column c of A (headDim × headDim), so q'_c = q · row c.
        public var columnsOfA: [Float]
        /// Mean |·| per skewed column over the column-source tokens, and the same without skewing.
        public var queryMagnitude: [Float], keyMagnitude: [Float]
        public var rawQueryMagnitude: [Float], rawKeyMagnitude: [Float]
    }

    public let layers: Int
    public let heads: Int
    public let headDim: Int
    /// Index `layer * heads + head`.
    public let entries: [Head]

    init(layers: Int, heads: Int, headDim: Int, entries: [Head]) {
        self.layers = layers
        self.heads = heads
        self.headDim = headDim
        self.entries = entries
    }

    public func head(layer: Int, head: Int) -> Head { entries[layer * heads + head] }

    /// The partial columns of one (layer, query head), ascending: d' = int(headDim·ratio)
    /// per choice (`union`: d'...2d' columns).
    public func columns(layer: Int, head h: Int, ratio: Double, variant: InfiniGenSettings.Columns, skew: Bool) -> [Int] {
        let e = head(layer: layer, head: h)
        let count = max(1, Int(Double(headDim) * ratio))
        return PartialColumns.choose(variant, queryMagnitude: skew ? e.queryMagnitude : e.rawQueryMagnitude,
                                     keyMagnitude: skew ? e.keyMagnitude : e.rawKeyMagnitude, count: count)
    }

    /// A short fixed prompt of COPA-style cause/effect sentences. The artifact picks its
    /// columns on six COPA items; these are our own sentences of the same form and length.
    public static let columnPrompt = """
        The man lost his keys because he left them on the bus.

        The child cried because her balloon floated away.

        The road was closed therefore the driver took a detour.

        The bread went stale because it was left out overnight.

        The student studied all night therefore she passed the exam.

        The plant died because nobody watered it for weeks.
        """

    private static let lock = NSLock()
    nonisolated(unsafe) private static var memo: [String: (model: ObjectIdentifier, value: ArtifactSkewing)] = [:]

    /// The skewing of `model`, memoised per process (model, tokens, conventions).
    public static func shared(model: LlamaModel, calibration: [Int], prompt: [Int],
                              skewing: ArtifactConventions.Skewing, source: ArtifactConventions.ColumnSource) throws -> ArtifactSkewing {
        let key = "\(ObjectIdentifier(model).hashValue)/\(calibration.hashValue)/\(calibration.count)/\(prompt.hashValue)/\(skewing.rawValue)/\(source.rawValue)"
        lock.lock()
        defer { lock.unlock() }
        if let hit = memo[key], hit.model == ObjectIdentifier(model) { return hit.value }
        let value = try compute(model: model, calibration: calibration, prompt: prompt, skewing: skewing, source: source)
        memo[key] = (ObjectIdentifier(model), value)
        return value
    }

    public static func compute(model: LlamaModel, calibration: [Int], prompt: [Int],
                               skewing: ArtifactConventions.Skewing, source: ArtifactConventions.ColumnSource) throws -> ArtifactSkewing {
        let c = model.config, d = c.headDim, H = c.heads, G = c.groupSize
        guard calibration.count >= d else {
            throw PolicyError("artifact protocol: calibration text has \(calibration.count) tokens; skewing needs at least \(d)")
        }
        var matrices = [[Float]](repeating: [], count: c.layers * H)
        if skewing == .perGroup {
            let shared = try SkewingCache.calibration(model: model, tokens: calibration)
            for l in 0..<c.layers { for h in 0..<H { matrices[l * H + h] = shared.group(layer: l, kvHead: h / G).columnsOfA } }
        }
        var entries = [Head?](repeating: nil, count: c.layers * H)
        var failure: Error?
        let forward = MaskedForward(model: model)
        // Pass 1: the calibration text (per-head SVD, and magnitudes if they come from it).
        if skewing == .perQueryHead || source == .calibration {
            _ = try forward.run(tokens: calibration, plan: nil) { l, q, k, n in
                do {
                    for h in 0..<H {
                        if skewing == .perQueryHead { matrices[l * H + h] = try rightSingularVectors(q + h * d, stride: c.qDim, rows: n, d: d) }
                        if source == .calibration {
                            entries[l * H + h] = magnitudes(matrices[l * H + h], q: q + h * d, qStride: c.qDim,
                                                            k: k + (h / G) * d, kStride: c.kvDim, rows: n, d: d)
                        }
                    }
                } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
        }
        // Pass 2: the column prompt.
        if source == .prompt {
            guard !prompt.isEmpty else { throw PolicyError("artifact protocol: the column prompt has no tokens") }
            _ = try forward.run(tokens: prompt, plan: nil) { l, q, k, n in
                for h in 0..<H {
                    entries[l * H + h] = magnitudes(matrices[l * H + h], q: q + h * d, qStride: c.qDim,
                                                    k: k + (h / G) * d, kStride: c.kvDim, rows: n, d: d)
                }
            }
        }
        return ArtifactSkewing(layers: c.layers, heads: H, headDim: d, entries: entries.map { $0! })
    }

    /// A's columns (as rows, by descending singular value) for n rows of width d: the
    /// eigenvectors of MᵀM, as `SkewingCalibration` computes them.
    static func rightSingularVectors(_ m: UnsafePointer<Float>, stride: Int, rows n: Int, d: Int) throws -> [Float] {
        var gram = [Float](repeating: 0, count: d * d)
        let t = FloatBuffer(count: d * n, zeroed: false)
        for r in 0..<n { for i in 0..<d { t[i * n + r] = m[r * stride + i] } }
        gram.withUnsafeMutableBufferPointer {
            BLAS.gemmABt(m: d, n: d, k: n, a: t.pointer, lda: n, b: t.pointer, ldb: n, c: $0.baseAddress!, ldc: d)
        }
        let eigen = try LAPACK.symmetricEigen(gram, n: d)
        var a = [Float](repeating: 0, count: d * d)
        for col in 0..<d { for i in 0..<d { a[col * d + i] = eigen.vectors[(d - 1 - col) * d + i] } }
        return a
    }

    /// Mean |q·A| and |k·A| per column, and the same of the raw vectors.
    static func magnitudes(_ a: [Float], q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, kStride: Int,
                           rows n: Int, d: Int) -> Head {
        var qm = [Double](repeating: 0, count: d), km = qm, rq = qm, rk = qm
        a.withUnsafeBufferPointer { ap in
            for r in 0..<n {
                let qr = q + r * qStride, kr = k + r * kStride
                for col in 0..<d {
                    let row = ap.baseAddress! + col * d
                    qm[col] += Double(abs(Kernels.dot(qr, row, d)))
                    km[col] += Double(abs(Kernels.dot(kr, row, d)))
                    rq[col] += Double(abs(qr[col]))
                    rk[col] += Double(abs(kr[col]))
                }
            }
        }
        func f(_ x: [Double]) -> [Float] { x.map { Float($0 / Double(n)) } }
        return Head(columnsOfA: a, queryMagnitude: f(qm), keyMagnitude: f(km), rawQueryMagnitude: f(rq), rawKeyMagnitude: f(rk))
    }
}
