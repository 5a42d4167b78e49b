import Foundation

/// What InfiniGen decided at one speculated layer for one query position.
public struct InfiniGenLayerStep: Sendable, Equatable {
    public var layer: Int
    /// Mean over query heads of the tokens whose speculated logit exceeded row max - alpha
    /// (before the caps).
    public var thresholdCount: Double
    /// Earlier positions fetched, per KV head (the current token, always read, excluded).
    public var selected: [Int]
    /// Earlier positions still in the host pool, per KV head (the candidates).
    public var resident: [Int]
}

/// What InfiniGen did for one query position, over all speculated layers.
public struct InfiniGenStepStats: Sendable, Equatable {
    public var position: Int
    /// One entry per speculated layer, in layer order.
    public var layers: [InfiniGenLayerStep] = []
    /// Floating-point operations spent speculating for this position, summed over layers.
    /// Per speculated layer L (speculated from layer L-1's attention input x):
    ///   2·hidden·qDim                 full query projection of layer L (rotary needs all of q)
    /// + 3·qDim                        rotary (6 flops per rotated pair)
    /// + Σ_heads 2·headDim·w           skewing the query onto its group's w partial columns
    /// + Σ_kvHeads 2·headDim·w         partial key of the new token (K·A on the same columns)
    /// + Σ_heads 2·w·resident          approximate logits over the resident earlier tokens
    /// (threshold counting and top-k comparisons are not counted).
    public var speculationFLOPs: Double = 0

    public init(position: Int) { self.position = position }
}

/// Running totals over every speculated (layer, position) of a sequence.
public struct InfiniGenTotals: Sendable, Equatable {
    /// Σ over (layer, KV head, position) of earlier positions (t at position t).
    public var earlier = 0
    /// Σ of resident earlier positions.
    public var resident = 0
    /// Σ of positions fetched.
    public var selected = 0
    /// Σ speculation FLOPs.
    public var speculationFLOPs = 0.0

    /// Fraction of earlier tokens fetched.
    public var selectedFraction: Double { earlier > 0 ? Double(selected) / Double(earlier) : 0 }
}
