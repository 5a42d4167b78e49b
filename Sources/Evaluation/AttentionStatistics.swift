import Foundation
import Model
import Numerics

/// The paper's motivation statistics (section 3), gathered by a policy that selects
/// nothing (every position reads the full cache) and only watches:
/// - attention sparsity: how many of the available tokens carry 90% of a query row's
///   attention (sampled every `sampleEvery` positions from `firstSample` on, every
///   query head);
/// - similarity of consecutive layers' attention inputs (after RMSNorm): the cosine of
///   layer l-1's and layer l's inputs at the same position, over every position.
public final class AttentionStatistics: KVPolicy {
    public let name = "statistics"
    public let firstManagedLayer = 0
    public let wantsAttentionWeights = true
    public let transfer = TransferCost.resident

    let layers: Int, hidden: Int, groupSize: Int
    let massTarget: Double
    let firstSample: Int, sampleEvery: Int
    /// Per layer: Σ fraction of tokens for the mass target, Σ tokens, rows counted.
    public private(set) var fractionSum: [Double]
    public private(set) var tokensSum: [Double]
    public private(set) var rows: [Int]
    /// Per layer l ≥ 1: Σ cosine(input[l-1], input[l]) and positions counted.
    public private(set) var cosineSum: [Double]
    public private(set) var cosineCount: [Int]
    private var previous: [Int: [Float]] = [:]          // position → previous layer's input
    private var previousLayer = -1

    /// Kept for `fork`.
    private let config: LlamaConfig

    public init(config: LlamaConfig, massTarget: Double = 0.9, firstSample: Int = 64, sampleEvery: Int = 16) {
        self.config = config
        layers = config.layers
        hidden = config.hiddenSize
        groupSize = config.groupSize
        self.massTarget = massTarget
        self.firstSample = firstSample
        self.sampleEvery = sampleEvery
        fractionSum = Array(repeating: 0, count: layers)
        tokensSum = Array(repeating: 0, count: layers)
        rows = Array(repeating: 0, count: layers)
        cosineSum = Array(repeating: 0, count: layers)
        cosineCount = Array(repeating: 0, count: layers)
    }

    public func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {}

    public func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        if layer != previousLayer && layer != previousLayer + 1 { previous.removeAll() }
        let current = Array(UnsafeBufferPointer(start: input, count: hidden))
        if layer > 0, let prev = previous[position] {
            let dot = prev.withUnsafeBufferPointer { Kernels.dot($0.baseAddress!, input, hidden) }
            let a = prev.withUnsafeBufferPointer { Kernels.dot($0.baseAddress!, $0.baseAddress!, hidden) }
            let b = Kernels.dot(input, input, hidden)
            cosineSum[layer] += Double(dot) / (Double(a) * Double(b)).squareRoot()
            cosineCount[layer] += 1
        }
        previous[position] = current
        previousLayer = layer
    }

    public func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                                 weights: UnsafePointer<Float>, stride: Int) {
        guard position >= firstSample, (position - firstSample) % sampleEvery == 0 else { return }
        let n = positions.count
        var row = [Float](repeating: 0, count: n)
        for j in 0..<groupSize {                 // the group's query heads, one stride apart
            for i in 0..<n { row[i] = weights[j * stride + i] }
            row.sort(by: >)
            var mass = 0.0, needed = 0
            while needed < n && mass < massTarget { mass += Double(row[needed]); needed += 1 }
            fractionSum[layer] += Double(needed) / Double(n)
            tokensSum[layer] += Double(needed)
            rows[layer] += 1
        }
    }

    /// Runs the statistics over `tokens` (one teacher-forced pass, full attention).
    public static func collect(model: LlamaModel, tokens: [Int], massTarget: Double = 0.9,
                               firstSample: Int = 64, sampleEvery: Int = 16) throws -> AttentionStatistics {
        let stats = AttentionStatistics(config: model.config, massTarget: massTarget,
                                        firstSample: firstSample, sampleEvery: sampleEvery)
        let seq = model.newSequence(policy: stats, policyStart: tokens.count, capacity: tokens.count)
        try model.forward([(seq, tokens)], logits: .none)
        return stats
    }

    /// Mean fraction of available tokens holding the mass target, per layer.
    public var sparsity: [Double] { (0..<layers).map { rows[$0] == 0 ? .nan : fractionSum[$0] / Double(rows[$0]) } }
    public var tokensNeeded: [Double] { (0..<layers).map { rows[$0] == 0 ? .nan : tokensSum[$0] / Double(rows[$0]) } }
    /// Cosine of layer l's input with layer l-1's, for l = 1..<layers.
    public var consecutiveCosine: [Double] { (1..<layers).map { cosineSum[$0] / Double(max(1, cosineCount[$0])) } }
}

extension AttentionStatistics {
    /// Copies the sums so far and the previous layer's inputs.
    public func fork() -> KVPolicy {
        let copy = AttentionStatistics(config: config, massTarget: massTarget, firstSample: firstSample, sampleEvery: sampleEvery)
        copy.fractionSum = fractionSum
        copy.tokensSum = tokensSum
        copy.rows = rows
        copy.cosineSum = cosineSum
        copy.cosineCount = cosineCount
        copy.previous = previous
        copy.previousLayer = previousLayer
        return copy
    }
}
