import Foundation
import Model
import Policies

/// A KV method as the artifact's mask simulation runs it, parsed from the registry's
/// spec syntax and parameter names (`infinigen:alpha=5,budget=0.2`, `h2o:heavy=0.1`,
/// `quant:bits=4`, `oracle:budget=0.2`, `full`).
public enum ArtifactMethod: Sendable, Equatable {
    public struct InfiniGen: Sendable, Equatable {
        public var alpha: Double
        /// fetch_max = int(budget·L): full leading rows, and the cap on every later row.
        public var budget: Double
        public var ratio: Double
        /// nil: the conventions' choice (a spec's explicit `columns=` sets it).
        public var columns: InfiniGenSettings.Columns?
        public var skew: Bool
        /// Threshold counts averaged over all query heads (artifact) or per KV group.
        public var count: InfiniGenSettings.Count
        /// Extra cap per row (0: none; not in the artifact's accuracy path).
        public var maxKV: Int
        /// Host pool capacity int(pool·L) and its eviction (table 2).
        public var pool: Double
        public var eviction: HostPool.Eviction
    }

    case full
    case infinigen(InfiniGen)
    /// Heavy and recent sizes: fractions of L (int(r·L)) unless given in tokens.
    case h2o(heavy: Double, recent: Double, heavyTokens: Int, recentTokens: Int)
    /// Fake-quantized K and V per token, groups along head_dim.
    case quant(bits: Int, group: Int)
    /// Exact top-k per row by the true scores: k tokens, or int(budget·L) when k is 0.
    case oracle(budget: Double, k: Int)

    public static let supported = ["full", "infinigen", "h2o", "quant", "oracle"]

    public var name: String {
        switch self {
        case .full: "full"
        case .infinigen: "infinigen"
        case .h2o: "h2o"
        case .quant: "quant"
        case .oracle: "oracle"
        }
    }

    /// Parses a registry spec. Returns the method and its `spare` (leading full layers).
    public static func parse(_ spec: String) throws -> (method: ArtifactMethod, spare: Int) {
        let (type, v) = try PolicyRegistry.parse(spec)
        guard supported.contains(type.name) else {
            throw PolicyError("the artifact protocol does not simulate '\(type.name)' (supported: \(supported.joined(separator: ", ")))")
        }
        let spare = v.integer("spare")
        let explicit = explicitKeys(spec)
        switch type.name {
        case "full":
            return (.full, spare)
        case "infinigen":
            let s = try InfiniGenSettings(v, layers: 1_000)
            guard s.budget > 0 else {
                throw PolicyError("artifact protocol: infinigen budget must be > 0 (it sets fetch_max = int(budget x L))")
            }
            if s.pool < 1 && s.budget >= s.pool {
                throw PolicyError("artifact protocol: infinigen budget (\(s.budget)) must be below pool (\(s.pool)), as the artifact asserts")
            }
            return (.infinigen(InfiniGen(alpha: s.alpha, budget: s.budget, ratio: s.ratio,
                                         columns: explicit.contains("columns") ? s.columns : nil, skew: s.skew,
                                         count: s.count, maxKV: s.maxKV, pool: s.pool, eviction: s.eviction)), spare)
        case "h2o":
            return (.h2o(heavy: v.real("heavy"), recent: v.real("recent"), heavyTokens: v.integer("heavy-tokens"),
                         recentTokens: v.integer("recent-tokens")), spare)
        case "quant":
            return (.quant(bits: Int(v.text("bits"))!, group: Int(v.text("group"))!), spare)
        default:
            guard v.real("top-p") == 0 else {
                throw PolicyError("artifact protocol: oracle supports top-k only (top-p is not simulated)")
            }
            return (.oracle(budget: v.real("budget"), k: v.integer("k")), spare)
        }
    }

    /// Keys written in the spec (the parsed values also hold every default).
    static func explicitKeys(_ spec: String) -> Set<String> {
        let parts = spec.split(separator: ":", maxSplits: 1)
        guard parts.count == 2 else { return [] }
        return Set(parts[1].split(separator: ",").compactMap {
            $0.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) }
        })
    }
}
