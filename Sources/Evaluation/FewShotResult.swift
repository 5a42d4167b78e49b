import Foundation

/// The scores of one item: everything a golden test or a report needs.
public struct FewShotRecord: Codable, Sendable, Equatable {
    public var id: Int
    public var gold: Int
    /// Summed natural-log probability of each choice's continuation tokens.
    public var loglikelihoods: [Double]
    /// Continuation length in Unicode scalars (Python's `len`), the acc_norm divisor.
    public var continuationCharacters: [Int]
    /// Per choice: [context tokens, continuation tokens].
    public var tokenCounts: [[Int]]
    /// First argmax of the raw sums.
    public var predicted: Int
    /// First argmax of sum / continuation characters.
    public var predictedNorm: Int

    public var correct: Bool { predicted == gold }
    public var correctNorm: Bool { predictedNorm == gold }

    init(id: Int, gold: Int, loglikelihoods: [Double], continuationCharacters: [Int], tokenCounts: [[Int]]) {
        self.id = id
        self.gold = gold
        self.loglikelihoods = loglikelihoods
        self.continuationCharacters = continuationCharacters
        self.tokenCounts = tokenCounts
        self.predicted = Self.firstArgmax(loglikelihoods)
        self.predictedNorm = Self.firstArgmax(zip(loglikelihoods, continuationCharacters).map { $0 / Double(max($1, 1)) })
    }

    /// Ties go to the lower index, as numpy's argmax.
    static func firstArgmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// A proportion with its standard error sqrt(p(1-p)/(n-1)) (lm-eval's stderr of a mean
/// of 0/1 values); nil when n < 2.
public struct FewShotMetric: Codable, Sendable, Equatable {
    public var value: Double
    public var stderr: Double?
    public var count: Int

    public init(hits: Int, count: Int) {
        self.count = count
        value = count == 0 ? 0 : Double(hits) / Double(count)
        stderr = count < 2 ? nil : (value * (1 - value) / Double(count - 1)).squareRoot()
    }
}

public struct FewShotResult: Codable, Sendable {
    public var task: String
    public var shots: Int
    public var notes: String
    public var records: [FewShotRecord]
    /// Tokens run through the model and forward calls made (cost accounting).
    public var tokensProcessed: Int
    public var forwardCalls: Int
    /// Wall-clock time of the scoring (not deterministic; everything else is).
    public var seconds: Double

    public var accuracy: FewShotMetric { FewShotMetric(hits: records.filter(\.correct).count, count: records.count) }
    public var accuracyNorm: FewShotMetric { FewShotMetric(hits: records.filter(\.correctNorm).count, count: records.count) }
}
