import Foundation

/// InfiniGen's parameters, parsed and checked against the model.
public struct InfiniGenSettings: Sendable, Equatable {
    /// How the partial columns are chosen (docs/infinigen.md 1.2).
    public enum Columns: String, Sendable, CaseIterable {
        /// Top-d' by mean |Q'| (artifact speedup path).
        case query
        /// Top-d' by |Q'| ∪ top-d' by |K'| (artifact accuracy path; d'...2d' columns).
        case union
        /// Top-d' by |Q'| + |K'| element-wise (paper section 4.3).
        case sum
    }

    /// How the threshold count becomes the number of tokens fetched.
    public enum Count: String, Sendable, CaseIterable {
        /// Mean over all query heads: one k per layer and step (artifact speedup path).
        case mean
        /// Each KV head uses the mean count of its own group's query heads (under
        /// `gqa=per-head`: each query head its own count).
        case perHead = "per-head"
    }

    public var ratio: Double
    public var columns: Columns
    public var skew: Bool
    public var alpha: Double
    public var count: Count
    public var budget: Double
    public var maxKV: Int
    public var pool: Double
    public var eviction: HostPool.Eviction
    public var spare: Int
    public var gqa: GQASelection

    public static let parameters: [ParameterSpec] = [
        ParameterSpec("ratio", .real(0.05...1), default: .real(0.2),
                      help: "partial columns per head: d' = int(headDim x ratio)"),
        ParameterSpec("columns", .choice(Columns.allCases.map(\.rawValue)), default: .text("sum"),
                      help: "partial column choice: sum (paper), query (artifact speedup), union (artifact accuracy)"),
        ParameterSpec("skew", .flag, default: .flag(true),
                      help: "apply the SVD skewing matrices (false: identity, the skewing ablation)"),
        ParameterSpec("alpha", .real(0...100), default: .real(5),
                      help: "fetch tokens whose speculated logit (scaled by 1/sqrt(headDim)) exceeds row max - alpha"),
        ParameterSpec("count", .choice(Count.allCases.map(\.rawValue)), default: .text("mean"),
                      help: "threshold count averaged over all heads (mean) or per KV group (per-head; with gqa=per-head, per query head)"),
        ParameterSpec("budget", .real(0...1), default: .real(0.2),
                      help: "cap on tokens fetched per query head, as a fraction of the sequence, rounded up as every policy's budget (0: no cap)"),
        ParameterSpec("max-kv", .integer(0...1_000_000), default: .integer(0),
                      help: "cap on tokens fetched per KV head and step (0: no cap)"),
        ParameterSpec("pool", .real(0.05...1), default: .real(1),
                      help: "host KV pool capacity as a fraction of the tokens so far"),
        ParameterSpec("eviction", .choice(HostPool.Eviction.allCases.map(\.rawValue)), default: .text("counter"),
                      help: "pool eviction when full: fifo, lru or counter (older half)"),
        GQASelection.parameter(default: .max, why: "the workbench's first adaptation, kept until data favours another: a token any head of the group clears the threshold for ranks high, as it would for that head alone in the paper's MHA models"),
    ]

    /// Reads parsed values; `layers` is the model's layer count.
    public init(_ values: ParameterValues, layers: Int) throws {
        ratio = values.real("ratio")
        columns = Columns(rawValue: values.text("columns"))!
        skew = values.flag("skew")
        alpha = values.real("alpha")
        count = Count(rawValue: values.text("count"))!
        budget = values.real("budget")
        maxKV = values.integer("max-kv")
        pool = values.real("pool")
        eviction = HostPool.Eviction(rawValue: values.text("eviction"))!
        spare = values.integer("spare")
        gqa = GQASelection(values)
        guard spare >= 1 else {
            throw PolicyError("infinigen: spare must be at least 1 (layer 0 has no earlier layer to speculate from)")
        }
        guard spare <= layers else {
            throw PolicyError("infinigen: spare=\(spare) exceeds the model's \(layers) layers")
        }
    }

    /// The most tokens one query head (one KV head, unless `gqa=per-head`) may fetch at
    /// `position`: `max-kv` and `budget` of the sequence, the shared rounding of every
    /// policy's budget (`TokenBudget`).
    public func cap(at position: Int) -> Int {
        var cap = position
        if maxKV > 0 { cap = min(cap, maxKV) }
        if budget > 0 { cap = min(cap, TokenBudget(fraction: budget).count(at: position)) }
        return cap
    }

    /// d': partial columns per head (at least one).
    public func partialWidth(headDim: Int) -> Int {
        max(1, Int(Double(headDim) * ratio))
    }
}
