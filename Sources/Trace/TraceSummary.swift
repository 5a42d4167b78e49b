import Foundation

/// Means over a trace, overall and per layer.
public struct TraceSummary: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var layer: Int
        public var managed: Bool
        public var readFraction: Double
        public var recall: Double
        public var mass: Double
        public var cosine: Double
        public var linkBytesPerToken: Double
        /// Mean rows read per KV head and position (the offload simulator's input).
        public var rowsRead: Double
        /// Mean rows each query head attended over (below `rowsRead` under per-query-head
        /// selection, where `rowsRead` is the union per KV head).
        public var queryHeadRowsRead: Double
    }

    public var positions: Int
    public var layers: [Layer]
    /// Over policy-managed records only.
    public var recall: Double
    public var mass: Double
    public var cosine: Double
    /// Rows read / rows available over every layer (spared layers included); the union
    /// per KV head under per-query-head selection.
    public var readFraction: Double
    /// The same share counted per query head (its own rows only).
    public var queryHeadReadFraction: Double
    /// Link bytes per scored position, all layers and heads.
    public var linkBytesPerToken: Double
    public var meanKL: Double
    public var top1Agreement: Double
    public var perplexity: Double
    public var perplexityFull: Double

    public init(attention: [AttentionRecord], tokens: [TokenRecord]) {
        let positionsSeen = Set(attention.map(\.position))
        positions = positionsSeen.count
        let byLayer = Dictionary(grouping: attention, by: \.layer)
        layers = byLayer.keys.sorted().map { l in
            let rs = byLayer[l]!
            let available = rs.reduce(0) { $0 + $1.rowsAvailable }
            return Layer(layer: l, managed: rs.contains { $0.managed },
                         readFraction: available == 0 ? 1 : Double(rs.reduce(0) { $0 + $1.rowsRead }) / Double(available),
                         recall: Self.mean(rs.map(\.recall)), mass: Self.mean(rs.map(\.mass)),
                         cosine: Self.mean(rs.map(\.cosine)),
                         linkBytesPerToken: rs.reduce(0) { $0 + $1.linkBytes } / Double(max(1, Set(rs.map(\.position)).count)),
                         rowsRead: Self.mean(rs.map { Double($0.rowsRead) }),
                         queryHeadRowsRead: Self.mean(rs.map(\.queryHeadRowsRead)))
        }
        let managed = attention.filter(\.managed)
        recall = Self.mean(managed.map(\.recall))
        mass = Self.mean(managed.map(\.mass))
        cosine = Self.mean(managed.map(\.cosine))
        let available = attention.reduce(0) { $0 + $1.rowsAvailable }
        readFraction = available == 0 ? 1 : Double(attention.reduce(0) { $0 + $1.rowsRead }) / Double(available)
        queryHeadReadFraction = available == 0 ? 1 : attention.reduce(0) { $0 + $1.queryHeadRowsRead } / Double(available)
        linkBytesPerToken = attention.reduce(0) { $0 + $1.linkBytes } / Double(max(1, positions))
        meanKL = Self.mean(tokens.map(\.kl))
        top1Agreement = Self.mean(tokens.map { $0.top1Agrees ? 1 : 0 })
        perplexity = exp(Self.mean(tokens.map(\.nll)))
        perplexityFull = exp(Self.mean(tokens.map(\.nllFull)))
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
}
