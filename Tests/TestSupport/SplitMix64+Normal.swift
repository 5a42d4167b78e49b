import Foundation
// The tests' seeded generator is the engine's own (Model.SplitMix64), re-exported so a
// test file sees it through `TestSupport` alone.
@_exported import struct Model.SplitMix64

extension SplitMix64 {
    /// A standard normal sample (Box-Muller), for synthetic weights and activations.
    public mutating func normal() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self), u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }

    public mutating func normals(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in normal() * scale } }

    /// `n` token ids in `100 ..< 20100` (a fixed, varied sequence for the real model
    /// without a tokenizer).
    public static func tokens(_ n: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in Int(rng.next() % 20000) + 100 }
    }
}
