import Foundation
import Numerics

/// Picks the next token from a row of logits.
public protocol Sampler {
    mutating func sample(_ logits: UnsafePointer<Float>, count: Int) -> Int
}

/// Always the most likely token.
public struct GreedySampler: Sampler {
    public init() {}
    public mutating func sample(_ logits: UnsafePointer<Float>, count: Int) -> Int { Kernels.argmax(logits, count) }
}

/// Temperature, then top-k, then top-p (nucleus), from a seeded generator: the same seed
/// gives the same text.
public struct TemperatureSampler: Sampler {
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    var rng: SplitMix64

    public init(temperature: Float, topK: Int = 40, topP: Float = 0.95, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.rng = SplitMix64(seed: seed)
    }

    public mutating func sample(_ logits: UnsafePointer<Float>, count: Int) -> Int {
        guard temperature > 0 else { return Kernels.argmax(logits, count) }
        var order = Array(0..<count)
        let k = topK > 0 ? min(topK, count) : count
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        let kept = Array(order.prefix(k))
        let m = logits[kept[0]]
        var p = kept.map { Double(expf((logits[$0] - m) / temperature)) }
        let total = p.reduce(0, +)
        p = p.map { $0 / total }
        var cut = p.count, acc = 0.0
        for (i, v) in p.enumerated() { acc += v; if acc >= Double(topP) { cut = i + 1; break } }
        let mass = p.prefix(cut).reduce(0, +)
        var u = rng.nextDouble() * mass
        for i in 0..<cut { u -= p[i]; if u <= 0 { return kept[i] } }
        return kept[cut - 1]
    }
}

/// A small, fast, seedable generator (Steele et al.'s SplitMix64).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
