import Foundation
import Model
import Numerics

/// InfiniGen for one sequence (docs/infinigen.md 1.2-1.4).
///
/// - While layer L-1 runs, its attention input x gives layer L's speculated query:
///   x·W_q(L)ᵀ (the full projection: rotary needs every component), rotary at the
///   position, then per head the group's partial columns of A.
/// - Layer L's partial key cache holds K·A on the same columns, per KV head.
/// - At layer L, per query head, approximate logits s_j = q'·k'_j / √headDim over the
///   resident earlier positions; the count of s_j > max - alpha, averaged over heads
///   (`count=mean`) or over each KV group (`per-head`) and truncated, capped by `max-kv`
///   and `budget` of the sequence (`InfiniGenSettings.cap`), is k; each KV head then
///   fetches its k resident positions with the highest group score (`gqa=max`: the max
///   over the group's query heads of s_j; `sum`: their sum; ties to the lower position),
///   or (`gqa=per-head`) each query head reads its own k best and the KV head fetches
///   their union (`count=per-head` then gives each query head its own count). The
///   current token is always read besides.
/// - Layers below `spare` read everything; layer `spare` - 1 only feeds the speculation,
///   which is why the engine shows it to the policy (`firstObservedLayer`).
///
/// Teacher-forced runs see every position of layer L-1 before layer L, so inputs wait in
/// `pending` and are projected in one matrix product when layer L first selects.
public final class InfiniGenPolicy: KVPolicy {
    public let name = InfiniGenMethod.name
    public let firstManagedLayer: Int
    public let firstObservedLayer: Int
    /// The choice for (L, t) needs layer L-1's input and layer L's keys before t, so it can
    /// be made while layer L-1 runs — unless the host pool evicts, since a token enters
    /// the pool at its own layer's hooks.
    public var selectsAhead: Bool { plan.settings.pool >= 1 }
    public var transfer: TransferCost { .rows(bytesPerRow: nil, extraBytesPerStep: 0) }
    /// The partial key cache lives on the device (docs 1.3): per cached token, each
    /// managed (layer, KV head) keeps its d' skewed key columns at fp16. Not link traffic.
    public var deviceBytesPerToken: Double {
        var columns = 0
        for l in spare..<c.layers { for g in 0..<c.kvHeads { columns += plan.width(layer: l, kvHead: g) } }
        return Double(2 * columns)
    }

    private let model: LlamaModel
    let plan: InfiniGenPlan
    private let c: LlamaConfig
    private let spare: Int

    private final class PendingInputs {
        var positions: [Int] = []
        var rows: [Float] = []
    }
    /// Attention inputs awaiting projection, by the layer they speculate for.
    private var pending: [Int: PendingInputs] = [:]
    /// Speculated partial queries by target layer; row = position.
    private var partialQueries: [Int: RowBuffer] = [:]
    /// Per (layer, KV head): the partial key cache (nil below `spare`).
    private var partialKeys: [RowBuffer?]
    /// Per (layer, KV head): the host pool.
    private(set) var pools: [HostPool]

    private var steps: [Int: InfiniGenStepStats] = [:]
    private var latest = -1
    public private(set) var totals = InfiniGenTotals()

    init(model: LlamaModel, plan: InfiniGenPlan) {
        self.model = model
        self.plan = plan
        c = model.config
        spare = plan.settings.spare
        firstManagedLayer = spare
        firstObservedLayer = spare - 1
        var keys: [RowBuffer?] = []
        for l in 0..<c.layers {
            for g in 0..<c.kvHeads {
                keys.append(l >= spare ? RowBuffer(width: plan.width(layer: l, kvHead: g)) : nil)
            }
        }
        partialKeys = keys
        pools = Array(repeating: HostPool(fraction: plan.settings.pool, eviction: plan.settings.eviction),
                      count: c.layers * c.kvHeads)
    }

    // MARK: statistics

    /// What happened at the most recent query position selected.
    public var lastStep: InfiniGenStepStats? { steps[latest] }
    public func step(at position: Int) -> InfiniGenStepStats? { steps[position] }
    /// Every selected position's statistics, by position.
    public var allSteps: [InfiniGenStepStats] { steps.keys.sorted().map { steps[$0]! } }

    // MARK: hooks

    public func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        // Layers below this one have finished: their leftovers (prompt positions that were
        // never selected) are dropped.
        for key in pending.keys where key < layer { pending[key] = nil }
        for key in partialQueries.keys where key < layer { partialQueries[key] = nil }
        let target = layer + 1
        guard target >= spare, target < c.layers else { return }
        let p = pending[target] ?? PendingInputs()
        pending[target] = p
        p.positions.append(position)
        p.rows.append(contentsOf: UnsafeBufferPointer(start: input, count: c.hiddenSize))
    }

    public func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        guard layer >= spare else { return }
        let d = c.headDim
        for g in 0..<c.kvHeads {
            let i = layer * c.kvHeads + g
            let cache = partialKeys[i]!, proj = plan.projections[i].pointer
            cache.reserve(position + 1)
            let row = cache.row(position)
            for col in 0..<cache.width { row[col] = Kernels.dot(keys + g * d, proj + col * d, d) }
            pools[i].insert(position)
        }
    }

    public func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        guard layer >= spare else { return }
        project(layer)
        guard let pq = partialQueries[layer], t < pq.capacity else {
            preconditionFailure("infinigen: no speculated query for layer \(layer) position \(t)")
        }
        let s = plan.settings, d = c.headDim, G = c.groupSize, H = c.heads
        let scale = 1 / Float(d).squareRoot(), alpha = Float(s.alpha)

        // Approximate logits and threshold counts, per query head.
        var scores = [Float](repeating: 0, count: H * t)
        var candidates: [[Int32]?] = []          // nil: every earlier position is resident
        var counts = [Int](repeating: 0, count: H)
        var flops = Double(2 * c.hiddenSize * c.qDim + 3 * c.qDim)
        for g in 0..<c.kvHeads {
            let i = layer * c.kvHeads + g
            let pool = pools[i], keys = partialKeys[i]!, w = keys.width
            let resident: [Int32]? = pool.evictedCount == 0 ? nil : pool.resident.filter { $0 < t }.map { Int32($0) }
            candidates.append(resident)
            let residentCount = resident?.count ?? t
            flops += Double(G * 2 * d * w + 2 * d * w + G * 2 * w * residentCount)
            guard t > 0 else { continue }
            scores.withUnsafeMutableBufferPointer { sp in
                let out = sp.baseAddress! + g * G * t
                BLAS.gemmABt(m: G, n: t, k: w, a: pq.row(t) + plan.queryOffsets[layer][g], lda: w,
                             b: keys.row(0), ldb: w, c: out, ldc: t, alpha: scale)
                for j in 0..<G {
                    let row = out + j * t
                    counts[g * G + j] = Self.thresholdCount(row, t: t, resident: resident, alpha: alpha)
                }
            }
        }

        // k per KV head: truncated mean count, capped.
        let cap = s.cap(at: t)
        let meanAll = Double(counts.reduce(0, +)) / Double(H)
        var selected: [Int] = [], residentCounts: [Int] = []
        for g in 0..<c.kvHeads {
            let i = layer * c.kvHeads + g
            let groupMean = s.count == .mean ? meanAll : Double(counts[(g * G)..<((g + 1) * G)].reduce(0, +)) / Double(G)
            let resident = candidates[g]
            let residentCount = resident?.count ?? t
            let k = min(Int(groupMean), cap, residentCount)
            let chosen: [Int32]?
            if s.gqa == .perHead {
                // Each query head its own k best; the KV head fetches the union.
                let ks = (0..<G).map { j in
                    s.count == .perHead ? min(counts[g * G + j], cap, residentCount) : k
                }
                if resident == nil && ks.allSatisfy({ $0 == residentCount }) {
                    chosen = nil
                    selection.set(g, nil)
                } else {
                    let lists = scores.withUnsafeBufferPointer { sp in
                        (0..<G).map { j in
                            Self.topPositions(sp.baseAddress! + (g * G + j) * t, groupSize: 1, t: t, resident: resident,
                                              k: ks[j], gqa: .max)
                        }
                    }
                    selection.setPerHead(g, lists)
                    chosen = selection.positions[g]
                }
            } else {
                if k == residentCount && resident == nil {
                    chosen = nil                     // every earlier position: read in place
                } else {
                    chosen = scores.withUnsafeBufferPointer { sp in
                        Self.topPositions(sp.baseAddress! + g * G * t, groupSize: G, t: t, resident: resident, k: k, gqa: s.gqa)
                    }
                }
                selection.set(g, chosen)
            }
            if pools[i].evicts {
                if let chosen { pools[i].recordFetch(chosen, time: t) } else { pools[i].recordFetch(0..<t, time: t) }
            }
            selected.append(chosen?.count ?? residentCount)
            residentCounts.append(residentCount)
        }

        // Statistics.
        var st = steps[t] ?? InfiniGenStepStats(position: t)
        st.layers.append(InfiniGenLayerStep(layer: layer, thresholdCount: meanAll, selected: selected,
                                            resident: residentCounts))
        st.speculationFLOPs += flops
        steps[t] = st
        latest = max(latest, t)
        totals.earlier += t * c.kvHeads
        totals.resident += residentCounts.reduce(0, +)
        totals.selected += selected.reduce(0, +)
        totals.speculationFLOPs += flops
    }

    // MARK: pieces

    /// Projects the waiting attention inputs of layer `target` - 1 into `target`'s partial
    /// queries: full query projection, rotary, then each group's partial columns of A.
    private func project(_ target: Int) {
        guard let p = pending.removeValue(forKey: target), !p.positions.isEmpty else { return }
        let m = p.positions.count, d = c.headDim, G = c.groupSize
        let q = FloatBuffer(count: m * c.qDim, zeroed: false)
        // One matrix-vector product per row, in decode and teacher-forced runs alike: a
        // batched sgemm would round differently and flip threshold counts between modes.
        p.rows.withUnsafeBufferPointer { x in
            for r in 0..<m {
                BLAS.gemv(rows: c.qDim, cols: c.hiddenSize, a: plan.queryWeights[target].pointer, lda: c.hiddenSize,
                          x: x.baseAddress! + r * c.hiddenSize, y: q.pointer + r * c.qDim)
            }
        }
        let buffer = partialQueries[target] ?? RowBuffer(width: plan.rowWidths[target])
        buffer.reserve((p.positions.max() ?? 0) + 1)
        for (r, position) in p.positions.enumerated() {
            let qr = q.pointer + r * c.qDim
            model.applyRotary(qr, heads: c.heads, position: position)
            let out = buffer.row(position)
            for g in 0..<c.kvHeads {
                let i = target * c.kvHeads + g
                let w = plan.columns[i].count, proj = plan.projections[i].pointer
                let base = out + plan.queryOffsets[target][g]
                for j in 0..<G {
                    let head = qr + (g * G + j) * d
                    for col in 0..<w { base[j * w + col] = Kernels.dot(head, proj + col * d, d) }
                }
            }
        }
        partialQueries[target] = buffer
    }

    /// Tokens (among the resident ones) whose logit exceeds the row max - alpha; strict,
    /// as the artifact's speedup path.
    static func thresholdCount(_ row: UnsafePointer<Float>, t: Int, resident: [Int32]?, alpha: Float) -> Int {
        var best = -Float.infinity, n = 0
        if let resident {
            for j in resident where row[Int(j)] > best { best = row[Int(j)] }
            let bar = best - alpha
            for j in resident where row[Int(j)] > bar { n += 1 }
        } else {
            for j in 0..<t where row[j] > best { best = row[j] }
            let bar = best - alpha
            for j in 0..<t where row[j] > bar { n += 1 }
        }
        return n
    }

    /// The k candidates with the highest group score (the max or the sum over the group's
    /// query heads), ascending positions.
    static func topPositions(_ scores: UnsafePointer<Float>, groupSize G: Int, t: Int, resident: [Int32]?, k: Int,
                             gqa: GQASelection = .max) -> [Int32] {
        guard k > 0 else { return [] }
        let positions = resident ?? (0..<t).map { Int32($0) }
        var group = [Float](repeating: gqa == .sum ? 0 : -.infinity, count: positions.count)
        for (i, p) in positions.enumerated() {
            for j in 0..<G {
                group[i] = gqa == .sum ? group[i] + scores[j * t + Int(p)] : max(group[i], scores[j * t + Int(p)])
            }
        }
        var topK = TopK(), chosen: [Int32] = []
        group.withUnsafeBufferPointer { topK.select(k, of: $0.count, scores: $0.baseAddress!, into: &chosen) }
        return chosen.map { positions[Int($0)] }
    }
}

extension InfiniGenPolicy {
    /// Deep copy of the sequence's state: partial key caches, speculated partial queries,
    /// inputs still waiting for projection, host pools (with their fetch history) and the
    /// statistics so far. The plan (shared by every sequence of the method) is not copied.
    public func fork() -> KVPolicy {
        let copy = InfiniGenPolicy(model: model, plan: plan)
        copy.pending = pending.mapValues { p in
            let q = PendingInputs()
            q.positions = p.positions
            q.rows = p.rows
            return q
        }
        copy.partialQueries = partialQueries.mapValues { $0.copy() }
        copy.partialKeys = partialKeys.map { $0?.copy() }
        copy.pools = pools
        copy.steps = steps
        copy.latest = latest
        copy.totals = totals
        return copy
    }
}
