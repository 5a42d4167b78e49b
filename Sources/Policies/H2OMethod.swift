import Model

/// H2O (Zhang et al., 2023): keep the heavy hitters — tokens with the highest attention
/// accumulated over all queries so far — plus a window of recent tokens; evict the rest
/// for good.
///
/// Per managed (layer, KV head) the policy keeps a set of cached tokens. A token enters
/// it when written. Each query's post-softmax weights, summed over the KV group's query
/// heads (`gqa=sum`, default; `max`: each query head accumulates its own score and a
/// token ranks by the largest), add to every read token's score (its own included). At
/// the query at position `t` (sequence length `t + 1`), the recent window is the last
/// `recent` cached positions and at most `heavy` kept tokens may lie before it: while
/// more do, the one with the lowest score is evicted (ties: the oldest). Attention then
/// reads the kept set. Under `gqa=per-head` each query head keeps its own heavy hitters
/// by its own accumulated score and reads its own set; the KV head holds and reads their
/// union.
///
/// Budget: heavy and recent together are one budget of `heavy + recent` of the sequence
/// (or `heavy-tokens + recent-tokens`), rounded up once as every policy's
/// (`TokenBudget`); the recent window takes its share of that count rounded down, the
/// heavy hitters the rest. Both count cached tokens (the query's own row is read besides).
/// If either is given in tokens, both are (the other's 0 is then 0 tokens): one total
/// cannot mix a count with a fraction.
///
/// Prompt positions (`t < policyStart`) read everything and only accumulate scores; the
/// first managed position applies the budget at once, ranking the whole prompt by the
/// attention it received (H2O's "prefill, then compress"). Teacher-forced runs
/// (`policyStart` 0) apply it from position 0, so the cache shrinks gradually.
///
/// Differences from the artifact's accuracy path (`local_heavy_hitter_mask`, a mask over
/// one full forward): there the budgets are fractions of the whole input's length, a
/// recent token's score is reset unless it is immediately a heavy hitter, and the scores
/// come from the unmasked attention; here the cache is real (what is evicted is never
/// read again) and scores are the weights attention actually used.
public final class H2OMethod: KVMethod {
    public static let name = "h2o"
    public static let summary = "heavy hitters by accumulated attention + recent window (default 0.1 + 0.1 of the sequence), evicted tokens never return"
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("heavy", .real(0...1), default: .real(0.1),
                      help: "heavy-hitter budget as a fraction of the sequence (artifact accuracy study: 0.25, 0.125, 0.0625, 0.03125; speedup path: 0.1 of the prompt)"),
        ParameterSpec("recent", .real(0...1), default: .real(0.1),
                      help: "recent-window budget as a fraction of the sequence (the artifact sets it equal to heavy)"),
        ParameterSpec("heavy-tokens", .integer(0...1_000_000), default: .integer(0),
                      help: "heavy-hitter budget in tokens (0 for both: use 'heavy' and 'recent')"),
        ParameterSpec("recent-tokens", .integer(0...1_000_000), default: .integer(0),
                      help: "recent-window budget in tokens (0 for both: use 'heavy' and 'recent')"),
        GQASelection.parameter(default: .sum, why: "the summed weight is the group's total attention to a token, as H2O accumulates it per head (kept from the first version)"),
    ]

    let split: H2OBudget
    let spare: Int
    let gqa: GQASelection
    let config: LlamaConfig

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        let heavyTokens = parameters.integer("heavy-tokens"), recentTokens = parameters.integer("recent-tokens")
        split = H2OBudget(heavy: parameters.real("heavy"), recent: parameters.real("recent"),
                          heavyTokens: heavyTokens, recentTokens: recentTokens)
        spare = parameters.integer("spare")
        gqa = GQASelection(parameters)
        config = model.config
    }

    public func makePolicy() -> KVPolicy {
        H2OPolicy(config: config, budget: split, firstManagedLayer: spare, gqa: gqa)
    }
}

/// H2O's one budget: heavy + recent rounded once (`TokenBudget`), split by their shares.
struct H2OBudget: Sendable, Equatable {
    let total: TokenBudget
    /// The recent window's share of the total.
    let recentShare: Double

    init(heavy: Double, recent: Double, heavyTokens: Int = 0, recentTokens: Int = 0) {
        if heavyTokens + recentTokens > 0 {
            total = TokenBudget(fraction: 0, tokens: heavyTokens + recentTokens)
            recentShare = Double(recentTokens) / Double(heavyTokens + recentTokens)
        } else {
            total = TokenBudget(fraction: heavy + recent)
            recentShare = heavy + recent > 0 ? recent / (heavy + recent) : 0
        }
    }

    /// (heavy, recent) counts at `position`: together `total.count(at:)`.
    func counts(at position: Int) -> (heavy: Int, recent: Int) {
        let n = total.count(at: position)
        // The epsilon keeps 0.5 * 10 = 5 from rounding down to 4.
        let recent = min(n, Int(Double(n) * recentShare + 1e-9))
        return (n - recent, recent)
    }
}

final class H2OPolicy: KVPolicy {
    let name = H2OMethod.name
    let firstManagedLayer: Int
    let wantsAttentionWeights = true
    private let budget: H2OBudget
    private let gqa: GQASelection
    private let kvHeads: Int
    private let groupSize: Int

    /// Per (layer, KV head), index `layer * kvHeads + head` (layers below
    /// `firstManagedLayer` stay empty): accumulated attention per position, and the kept
    /// cached positions in ascending order. Under `gqa=max` and `per-head` one slot per
    /// query head, index `(layer * kvHeads + head) * groupSize + j` (`per-head` also keeps
    /// one set per query head; `max` keeps the group's set in the slot of j = 0).
    private var scores: [[Float]]
    private var kept: [[Int32]]
    /// Positions appended to `kept` so far, per layer.
    private var written: [Int]
    private var topK = TopK()
    private var candidates: [Float] = []
    private var chosen: [Int32] = []

    /// Score slots per KV head.
    private var slots: Int { gqa == .sum ? 1 : groupSize }
    /// Kept for `fork`.
    private let config: LlamaConfig

    init(config: LlamaConfig, budget: H2OBudget, firstManagedLayer: Int, gqa: GQASelection = .sum) {
        self.config = config
        self.budget = budget
        self.gqa = gqa
        self.firstManagedLayer = firstManagedLayer
        kvHeads = config.kvHeads
        groupSize = config.groupSize
        let n = config.layers * config.kvHeads * (gqa == .sum ? 1 : config.groupSize)
        scores = Array(repeating: [], count: n)
        kept = Array(repeating: [], count: n)
        written = Array(repeating: 0, count: config.layers)
    }

    func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        // Earlier positions join the kept set now; the query's own joins at the next one.
        let m = slots
        for h in 0..<kvHeads {
            for j in 0..<m {
                let i = (layer * kvHeads + h) * m + j
                if gqa != .max || j == 0 { for p in written[layer]..<position { kept[i].append(Int32(p)) } }
                while scores[i].count <= position { scores[i].append(0) }
            }
        }
        written[layer] = max(written[layer], position)
    }

    func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        let (heavyCount, recentCount) = budget.counts(at: t)
        let windowStart = Int32(t - recentCount)
        let m = slots
        for h in 0..<kvHeads {
            let base = (layer * kvHeads + h) * m
            func trim(_ i: Int) {
                // Kept positions before the recent window form a prefix of the ascending list.
                var older = 0
                while older < kept[i].count && kept[i][older] < windowStart { older += 1 }
                if older > heavyCount { evict(slot: i, older: older, keep: heavyCount) }
            }
            if gqa == .perHead {
                for j in 0..<m { trim(base + j) }
                let lists = (0..<m).map { kept[base + $0] }
                if lists.allSatisfy({ $0.count == t }) { selection.set(h, nil) } else { selection.setPerHead(h, lists) }
            } else {
                trim(base)
                selection.set(h, kept[base].count == t ? nil : kept[base])
            }
        }
    }

    /// Keeps the `keep` best of the first `older` kept positions: highest score, ties to
    /// the newer — the same set as evicting the lowest one by one, ties to the oldest.
    private func evict(slot i: Int, older: Int, keep: Int) {
        candidates.removeAll(keepingCapacity: true)
        if gqa == .max {
            // The group's set in slot j = 0, ranked by the largest of its heads' scores.
            let base = i
            for j in 0..<older {
                let p = Int(kept[i][j])
                var s = scores[base][p]
                for g in 1..<groupSize { s = max(s, scores[base + g][p]) }
                candidates.append(s)
            }
        } else {
            for j in 0..<older { candidates.append(scores[i][Int(kept[i][j])]) }
        }
        candidates.withUnsafeBufferPointer { s in
            topK.select(keep, of: older, scores: s.baseAddress!, lowerIndexWins: false, into: &chosen)
        }
        // `chosen` holds ascending indices into the prefix; compact in place.
        var w = 0
        for c in chosen { kept[i][w] = kept[i][Int(c)]; w += 1 }
        kept[i].removeSubrange(w..<older)
    }

    func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                          weights: UnsafePointer<Float>, stride: Int) {
        let m = slots
        for j in 0..<groupSize {
            let i = (layer * kvHeads + kvHead) * m + (m == 1 ? 0 : j)
            let w = weights + j * stride
            // Under per-head selection a head's weight is 0 on rows only others read.
            scores[i].withUnsafeMutableBufferPointer { s in
                for (k, p) in positions.enumerated() { s[Int(p)] += w[k] }
            }
        }
    }

    /// Kept cached positions of one (layer, KV head) (query head `j` of its group under
    /// `gqa=per-head`), for tests and traces.
    func keptPositions(layer: Int, kvHead: Int, queryHead j: Int = 0) -> [Int32] {
        kept[(layer * kvHeads + kvHead) * slots + (gqa == .perHead ? j : 0)]
    }
    /// Accumulated score (summed over the group, or of query head `j` under `max`/`per-head`).
    func score(layer: Int, kvHead: Int, position: Int, queryHead j: Int = 0) -> Float {
        scores[(layer * kvHeads + kvHead) * slots + (slots == 1 ? 0 : j)][position]
    }
}

extension H2OPolicy {
    /// Copies the accumulated scores and kept sets (the scratch buffers start empty).
    func fork() -> KVPolicy {
        let copy = H2OPolicy(config: config, budget: budget, firstManagedLayer: firstManagedLayer, gqa: gqa)
        copy.scores = scores
        copy.kept = kept
        copy.written = written
        return copy
    }
}

extension H2OMethod {
    public static var examples: PolicyExamples {
        .budgeted([
            .init("h2o:heavy-tokens=3,recent-tokens=4") { min($0, 7) },
            .init("h2o:heavy=0.125,recent=0.125,spare=1") { PolicyExamples.ceilFraction(0.25, $0) },
            .init("h2o:heavy=0.3,recent=0,spare=0") { PolicyExamples.ceilFraction(0.3, $0) },
        ], unbounded: "h2o:heavy=1,recent=1")
    }
}
