import Model

/// H2O (Zhang et al., 2023): keep the heavy hitters — tokens with the highest attention
/// accumulated over all queries so far — plus a window of recent tokens; evict the rest
/// for good.
///
/// Per managed (layer, KV head) the policy keeps a set of cached tokens. A token enters
/// it when written. Each query's post-softmax weights, summed over the KV group's query
/// heads, add to every read token's score (its own included). At the query at position
/// `t` (sequence length `t + 1`), the recent window is the last `recent` cached positions
/// and at most `heavy` kept tokens may lie before it: while more do, the one with the
/// lowest score is evicted (ties: the oldest). Attention then reads the kept set. Both
/// budgets count cached tokens (the query's own row is read besides) and are fractions of
/// the sequence length, rounded up (see `TokenBudget`), unless given in tokens.
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
                      help: "heavy-hitter budget in tokens (0: use 'heavy')"),
        ParameterSpec("recent-tokens", .integer(0...1_000_000), default: .integer(0),
                      help: "recent-window budget in tokens (0: use 'recent')"),
    ]

    let heavy: TokenBudget
    let recent: TokenBudget
    let spare: Int
    let config: LlamaConfig

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        heavy = TokenBudget(fraction: parameters.real("heavy"), tokens: parameters.integer("heavy-tokens"))
        recent = TokenBudget(fraction: parameters.real("recent"), tokens: parameters.integer("recent-tokens"))
        spare = parameters.integer("spare")
        config = model.config
    }

    public func makePolicy() -> KVPolicy {
        H2OPolicy(config: config, heavy: heavy, recent: recent, firstManagedLayer: spare)
    }
}

final class H2OPolicy: KVPolicy {
    let name = H2OMethod.name
    let firstManagedLayer: Int
    let wantsAttentionWeights = true
    private let heavy: TokenBudget
    private let recent: TokenBudget
    private let kvHeads: Int
    private let groupSize: Int

    /// Per (layer, KV head), index `layer * kvHeads + head` (layers below
    /// `firstManagedLayer` stay empty): accumulated attention per position, and the kept
    /// cached positions in ascending order.
    private var scores: [[Float]]
    private var kept: [[Int32]]
    /// Positions appended to `kept` so far, per layer.
    private var written: [Int]
    private var topK = TopK()
    private var candidates: [Float] = []
    private var chosen: [Int32] = []

    /// Kept for `fork`.
    private let config: LlamaConfig

    init(config: LlamaConfig, heavy: TokenBudget, recent: TokenBudget, firstManagedLayer: Int) {
        self.config = config
        self.heavy = heavy
        self.recent = recent
        self.firstManagedLayer = firstManagedLayer
        kvHeads = config.kvHeads
        groupSize = config.groupSize
        scores = Array(repeating: [], count: config.layers * config.kvHeads)
        kept = Array(repeating: [], count: config.layers * config.kvHeads)
        written = Array(repeating: 0, count: config.layers)
    }

    func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        // Earlier positions join the kept set now; the query's own joins at the next one.
        for h in 0..<kvHeads {
            let i = layer * kvHeads + h
            for p in written[layer]..<position { kept[i].append(Int32(p)) }
            while scores[i].count <= position { scores[i].append(0) }
        }
        written[layer] = max(written[layer], position)
    }

    func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        let heavyCount = heavy.count(at: t), recentCount = recent.count(at: t)
        let windowStart = Int32(t - recentCount)
        for h in 0..<kvHeads {
            let i = layer * kvHeads + h
            // Kept positions before the recent window form a prefix of the ascending list.
            var older = 0
            while older < kept[i].count && kept[i][older] < windowStart { older += 1 }
            if older > heavyCount { evict(slot: i, older: older, keep: heavyCount) }
            selection.positions[h] = kept[i].count == t ? nil : kept[i]
        }
    }

    /// Keeps the `keep` best of the first `older` kept positions: highest score, ties to
    /// the newer — the same set as evicting the lowest one by one, ties to the oldest.
    private func evict(slot i: Int, older: Int, keep: Int) {
        candidates.removeAll(keepingCapacity: true)
        for j in 0..<older { candidates.append(scores[i][Int(kept[i][j])]) }
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
        let i = layer * kvHeads + kvHead
        scores[i].withUnsafeMutableBufferPointer { s in
            for j in 0..<groupSize {
                let w = weights + j * stride
                for (k, p) in positions.enumerated() { s[Int(p)] += w[k] }
            }
        }
    }

    /// Kept cached positions of one (layer, KV head), for tests and traces.
    func keptPositions(layer: Int, kvHead: Int) -> [Int32] { kept[layer * kvHeads + kvHead] }
    func score(layer: Int, kvHead: Int, position: Int) -> Float { scores[layer * kvHeads + kvHead][position] }
}

extension H2OPolicy {
    /// Copies the accumulated scores and kept sets (the scratch buffers start empty).
    func fork() -> KVPolicy {
        let copy = H2OPolicy(config: config, heavy: heavy, recent: recent, firstManagedLayer: firstManagedLayer)
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
            .init("h2o:heavy=0.125,recent=0.125,spare=1") { 2 * PolicyExamples.ceilFraction(0.125, $0) },
            .init("h2o:heavy=0.3,recent=0,spare=0") { PolicyExamples.ceilFraction(0.3, $0) },
        ], unbounded: "h2o:heavy=1,recent=1")
    }
}
