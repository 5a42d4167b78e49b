import Foundation

/// What the masks of one artifact-protocol pass selected.
public struct MaskStatistics: Sendable, Codable, Equatable {
    public struct Layer: Sendable, Codable, Equatable {
        public var layer: Int
        /// Masked by the method (false: a spared layer, or the full method).
        public var managed: Bool
        /// Selected cells / (query heads × L(L+1)/2): the artifact's per-layer `density`.
        public var density: Double
        /// Shares of the (head, row) pairs whose count reached fetch_max, and that selected
        /// nothing; tokens evicted from the pool per head.
        public var cappedRowShare: Double
        public var emptyRowShare: Double
        public var evictionsPerHead: Double
    }

    public var length: Int
    /// InfiniGen: fetch_max = int(budget·L), the full leading rows and the cap (0 otherwise).
    public var fetchMax: Int
    public var layers: [Layer]

    public var managedLayers: [Layer] { layers.filter(\.managed) }

    /// Mean density over the managed layers (the artifact averages the layers that set
    /// one); 1 when no layer is managed.
    public var density: Double {
        let m = managedLayers
        return m.isEmpty ? 1 : m.map(\.density).reduce(0, +) / Double(m.count)
    }

    /// The artifact's relative KV size of a masked point: r = 1 - sqrt(1 - density). It
    /// reads the triangle's selected fraction as if each row kept r·L tokens past full
    /// leading rows of r·L; it holds for this protocol's masks only, not for per-position
    /// budgets of the decode protocol (there the read fraction is the size itself).
    public var retainRatio: Double { Self.retainRatio(density: density) }

    public static func retainRatio(density: Double) -> Double { 1 - (1 - min(max(density, 0), 1)).squareRoot() }

    public var cappedRowShare: Double { mean(\.cappedRowShare) }
    public var emptyRowShare: Double { mean(\.emptyRowShare) }
    public var evictionsPerHead: Double { mean(\.evictionsPerHead) }

    private func mean(_ key: KeyPath<Layer, Double>) -> Double {
        let m = managedLayers
        return m.isEmpty ? 0 : m.map { $0[keyPath: key] }.reduce(0, +) / Double(m.count)
    }
}
