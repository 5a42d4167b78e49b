/// How many speculated tokens the paper setting assumes before the cap.
public enum TokenCountModel: Codable, Sendable, Equatable {
    /// The thresholded count always reaches max_num_kv, so k = max_num_kv:
    /// an upper bound on InfiniGen's traffic (no trace needed).
    case capBinds
    /// A fixed count per layer and step, e.g. a mean read off a trace.
    case fixed(Int)
    /// A fixed fraction of the cached tokens.
    case fractionOfContext(Double)
}

/// Where the number of KV tokens a sparse schedule reads per layer and step
/// comes from. The result says which, so modeled numbers are never mistaken
/// for measured ones.
public enum TokenReadSource: Codable, Sendable, Equatable {
    /// k = min(count, max_num_kv, cached tokens), as the artifact's speedup path.
    case paperSetting(maxNumKV: Int, count: TokenCountModel = .capBinds)
    /// Counts recorded by a real run: `counts[decodeStep - 1][layer]` holds one
    /// count per KV head (or per batch row); the artifact moves their mean
    /// (truncated, `int(mean)`) for every head.
    case recorded(counts: [[[Int]]], source: String)

    public var label: String {
        switch self {
        case let .paperSetting(maxNumKV, count):
            let countText: String
            switch count {
            case .capBinds: countText = "count assumed to reach the cap"
            case let .fixed(n): countText = "count fixed at \(n)"
            case let .fractionOfContext(f): countText = "count = \(f) x context"
            }
            return "modeled from paper setting (max_num_kv \(maxNumKV), \(countText))"
        case let .recorded(_, source):
            return "modeled from measured SmolLM2 trace (\(source))"
        }
    }

    func validate(model: ModelShape, workload: Workload) throws {
        switch self {
        case let .paperSetting(maxNumKV, count):
            if maxNumKV < 1 { throw OffloadError.invalidReads("max_num_kv must be at least 1 (got \(maxNumKV))") }
            switch count {
            case .capBinds: break
            case let .fixed(n) where n < 0: throw OffloadError.invalidReads("fixed count must be >= 0 (got \(n))")
            case let .fractionOfContext(f) where !(f >= 0 && f <= 1):
                throw OffloadError.invalidReads("fraction of context must be in [0, 1] (got \(f))")
            default: break
            }
        case let .recorded(counts, source):
            if counts.count < workload.decodeSteps {
                throw OffloadError.invalidReads("trace \(source) has \(counts.count) decode steps, workload needs \(workload.decodeSteps)")
            }
            for (step, layers) in counts.prefix(workload.decodeSteps).enumerated() {
                if layers.count != model.layers {
                    throw OffloadError.invalidReads("trace \(source) step \(step + 1) has \(layers.count) layers, model \(model.name) has \(model.layers)")
                }
                for (layer, row) in layers.enumerated() {
                    if row.isEmpty || row.contains(where: { $0 < 0 }) {
                        throw OffloadError.invalidReads("trace \(source) step \(step + 1) layer \(layer): counts must be a non-empty list of non-negative integers")
                    }
                }
            }
        }
    }

    /// Tokens read from the cache in `layer` at decode step `step` (1-based)
    /// when `cached` tokens are stored; never more than `cached`.
    func tokens(step: Int, layer: Int, cached: Int) -> Int {
        switch self {
        case let .paperSetting(maxNumKV, count):
            let speculated: Int
            switch count {
            case .capBinds: speculated = maxNumKV
            case let .fixed(n): speculated = n
            case let .fractionOfContext(f): speculated = Int(f * Double(cached))
            }
            return min(speculated, maxNumKV, cached)
        case let .recorded(counts, _):
            let row = counts[step - 1][layer]
            return min(row.reduce(0, +) / row.count, cached)
        }
    }
}
