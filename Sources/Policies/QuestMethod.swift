import Model

/// Quest (Tang et al., 2024): the cache is cut into pages of `page` consecutive tokens;
/// each page keeps, per KV head, the channel-wise min and max of its keys. For a query,
/// a page's score Σ_c max(q_c·min_c, q_c·max_c) bounds from above every q·k in the page;
/// the best pages are read. Quest computes these scores with the real query on the
/// device, so using `queries` here is the method itself, not an oracle.
///
/// Grouped-query attention (`gqa`): a page's score is the sum of its bounds over the
/// query heads of the KV group (`sum`, default: an upper bound on the group's summed
/// logits) or their max (`max`), one selection serving the group; or (`per-head`) each
/// query head takes its own top pages and the KV head reads their union.
///
/// Budget: `budget` of the sequence (cached tokens, rounded up). The page holding the
/// current token is always read (its rows before the query); then whole earlier pages by
/// score (ties: the earlier page) while the total stays within the budget.
public final class QuestMethod: KVMethod {
    public static let name = "quest"
    public static let summary = "query-aware page selection by per-page key min/max bounds (pages of 16, budget 0.2 of the sequence)"
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("page", .integer(1...4096), default: .integer(16), help: "tokens per page (Quest's default: 16)"),
        ParameterSpec("budget", .real(0.01...1), default: .real(0.2),
                      help: "tokens read as a fraction of the sequence, in whole pages (the current page always)"),
        GQASelection.parameter(default: .sum, why: "the summed bound bounds the group's summed logits, the score of one shared set (kept from the first version)"),
    ]

    let page: Int
    let budget: TokenBudget
    let spare: Int
    let gqa: GQASelection
    let config: LlamaConfig

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        page = parameters.integer("page")
        budget = TokenBudget(fraction: parameters.real("budget"))
        spare = parameters.integer("spare")
        gqa = GQASelection(parameters)
        config = model.config
    }

    public func makePolicy() -> KVPolicy {
        QuestPolicy(config: config, page: page, budget: budget, firstManagedLayer: spare, gqa: gqa)
    }
}

final class QuestPolicy: KVPolicy {
    let name = QuestMethod.name
    let firstManagedLayer: Int
    /// Selected rows cross at fp16. The page metadata (min and max, headDim fp16 each) is
    /// not link traffic: in Quest's design it lives on the device beside the cache and the
    /// device scores pages from it every step; offloaded, it is what decides which pages
    /// cross, so it stays resident (a page's 2 key-sized rows against its `page` K+V rows)
    /// and is reported as device bytes (`deviceBytesPerToken`).
    let transfer = TransferCost.rows(bytesPerRow: nil, extraBytesPerStep: 0)
    /// min and max (fp16, headDim each) per page, per managed (layer, KV head).
    let deviceBytesPerToken: Double
    private let page: Int
    private let gqa: GQASelection
    private let budget: TokenBudget
    private let kvHeads: Int
    private let groupSize: Int
    private let headDim: Int
    /// Per (layer, KV head): channel-wise min and max of each page's keys, `pages × headDim`.
    private var pageMin: [[Float]]
    private var pageMax: [[Float]]
    private var pageScores: [Float] = []
    private var chosen: [Int32] = []
    private var topK = TopK()

    /// Kept for `fork`.
    private let config: LlamaConfig

    init(config: LlamaConfig, page: Int, budget: TokenBudget, firstManagedLayer: Int, gqa: GQASelection = .sum) {
        self.config = config
        self.page = page
        self.gqa = gqa
        self.budget = budget
        self.firstManagedLayer = firstManagedLayer
        kvHeads = config.kvHeads
        groupSize = config.groupSize
        headDim = config.headDim
        pageMin = Array(repeating: [], count: config.layers * config.kvHeads)
        pageMax = Array(repeating: [], count: config.layers * config.kvHeads)
        let managed = Double(max(0, config.layers - firstManagedLayer) * config.kvHeads)
        deviceBytesPerToken = managed * Double(4 * config.headDim) / Double(page)
    }

    func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        let d = headDim, p = position / page
        for h in 0..<kvHeads {
            let i = layer * kvHeads + h
            let k = keys + h * d
            if pageMin[i].count == p * d {
                pageMin[i].append(contentsOf: UnsafeBufferPointer(start: k, count: d))
                pageMax[i].append(contentsOf: UnsafeBufferPointer(start: k, count: d))
            } else {
                precondition(pageMin[i].count == (p + 1) * d, "quest: keys must arrive in position order")
                for c in 0..<d {
                    pageMin[i][p * d + c] = min(pageMin[i][p * d + c], k[c])
                    pageMax[i][p * d + c] = max(pageMax[i][p * d + c], k[c])
                }
            }
        }
    }

    func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        let current = t / page, rowsInCurrent = t - current * page
        let allowed = budget.count(at: t)
        let extraPages = max(0, (allowed - rowsInCurrent) / page)
        guard extraPages < current else { selection.readAll(); return }
        for h in 0..<kvHeads {
            if gqa == .perHead {
                selection.setPerHead(h, (0..<groupSize).map {
                    pages(layer: layer, kvHead: h, heads: $0..<($0 + 1), position: t, queries: queries, extraPages: extraPages)
                })
            } else {
                selection.set(h, pages(layer: layer, kvHead: h, heads: 0..<groupSize, position: t, queries: queries, extraPages: extraPages))
            }
        }
    }

    /// The rows of the `extraPages` best earlier pages by the bounds of `heads` (indices
    /// within the group; summed, or maxed under `gqa=max`), then the current page's.
    private func pages(layer: Int, kvHead h: Int, heads: Range<Int>, position t: Int, queries: UnsafePointer<Float>,
                       extraPages: Int) -> [Int32] {
        let d = headDim, current = t / page
        let i = layer * kvHeads + h
        pageScores.removeAll(keepingCapacity: true)
        pageMin[i].withUnsafeBufferPointer { mn in
            pageMax[i].withUnsafeBufferPointer { mx in
                for p in 0..<current {
                    var s: Float = gqa == .max ? -.infinity : 0
                    for j in heads {
                        let b = Self.bound(query: queries + (h * groupSize + j) * d, min: mn.baseAddress! + p * d, max: mx.baseAddress! + p * d, count: d)
                        s = gqa == .max ? Swift.max(s, b) : s + b
                    }
                    pageScores.append(s)
                }
            }
        }
        pageScores.withUnsafeBufferPointer {
            topK.select(extraPages, of: current, scores: $0.baseAddress!, into: &chosen)
        }
        var list: [Int32] = []
        list.reserveCapacity(extraPages * page + t - current * page)
        for p in chosen {
            let start = Int(p) * page
            for r in start..<(start + page) { list.append(Int32(r)) }
        }
        for r in (current * page)..<t { list.append(Int32(r)) }
        return list
    }

    /// Channel-wise (min, max) of one page's keys, for tests and traces.
    func pageBounds(layer: Int, kvHead: Int, page p: Int) -> (min: [Float], max: [Float]) {
        let i = layer * kvHeads + kvHead, d = headDim
        return (Array(pageMin[i][(p * d)..<((p + 1) * d)]), Array(pageMax[i][(p * d)..<((p + 1) * d)]))
    }

    /// Σ_c max(q_c·min_c, q_c·max_c): at least q·k for every key k with min <= k <= max.
    @inline(__always)
    static func bound(query q: UnsafePointer<Float>, min mn: UnsafePointer<Float>, max mx: UnsafePointer<Float>,
                      count d: Int) -> Float {
        var acc = SIMD8<Float>()
        var c = 0
        while c + 8 <= d {
            let qv = UnsafeRawPointer(q + c).loadUnaligned(as: SIMD8<Float>.self)
            let a = qv * UnsafeRawPointer(mn + c).loadUnaligned(as: SIMD8<Float>.self)
            let b = qv * UnsafeRawPointer(mx + c).loadUnaligned(as: SIMD8<Float>.self)
            acc += pointwiseMax(a, b)
            c += 8
        }
        var s = acc.sum()
        while c < d { s += Swift.max(q[c] * mn[c], q[c] * mx[c]); c += 1 }
        return s
    }
}

extension QuestPolicy {
    /// Copies every page's key bounds (the scratch buffers start empty).
    func fork() -> KVPolicy {
        let copy = QuestPolicy(config: config, page: page, budget: budget, firstManagedLayer: firstManagedLayer, gqa: gqa)
        copy.pageMin = pageMin
        copy.pageMax = pageMax
        return copy
    }
}

extension QuestMethod {
    public static var examples: PolicyExamples {
        // The current page's earlier rows are read even past the budget.
        .budgeted([
            .init("quest:page=4,budget=0.25") { max(PolicyExamples.ceilFraction(0.25, $0), $0 % 4) },
            .init("quest:page=3,budget=0.4,spare=0") { max(PolicyExamples.ceilFraction(0.4, $0), $0 % 3) },
        ], unbounded: "quest:budget=1")
    }
}
