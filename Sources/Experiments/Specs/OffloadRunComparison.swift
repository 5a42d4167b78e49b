import Evaluation
import Foundation
import Offload

/// Modeled against measured decode step time for each real two-tier run, and the check
/// the simulator must pass on this machine: every prediction within `tolerance` of the
/// measurement, and the same ranking.
public struct OffloadRunComparison: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var policy: String
        public var schedule: String
        public var reason: String
        /// Measured (medians over the decode steps; stall and copy are means).
        public var measuredStepSeconds: Double
        public var measuredComputeSeconds: Double
        public var measuredStallSeconds: Double
        public var measuredBytesPerStep: Double
        /// Modeled (medians over the simulated decode steps; compute and stall are means).
        public var modeledStepSeconds: Double
        public var modeledComputeSeconds: Double
        public var modeledStallSeconds: Double
        public var modeledBytesPerStep: Double
        /// (modeled - measured) / measured step time.
        public var relativeError: Double { modeledStepSeconds / measuredStepSeconds - 1 }

        public init(policy: String, schedule: String, reason: String, measuredStepSeconds: Double,
                    measuredComputeSeconds: Double, measuredStallSeconds: Double, measuredBytesPerStep: Double,
                    modeledStepSeconds: Double, modeledComputeSeconds: Double, modeledStallSeconds: Double,
                    modeledBytesPerStep: Double) {
            self.policy = policy
            self.schedule = schedule
            self.reason = reason
            self.measuredStepSeconds = measuredStepSeconds
            self.measuredComputeSeconds = measuredComputeSeconds
            self.measuredStallSeconds = measuredStallSeconds
            self.measuredBytesPerStep = measuredBytesPerStep
            self.modeledStepSeconds = modeledStepSeconds
            self.modeledComputeSeconds = modeledComputeSeconds
            self.modeledStallSeconds = modeledStallSeconds
            self.modeledBytesPerStep = modeledBytesPerStep
        }

        /// One run set against its simulation.
        public init(run: OffloadRunResult, hardware: HardwareProfile, shape: ModelShape) throws {
            let m = OffloadRunSimulation.mapping(for: run)
            let sim = try OffloadRunSimulation.predict(run, hardware: hardware, shape: shape)
            let steps = max(1, run.generate)
            var compute = 0.0
            for e in sim.timeline where e.step >= 1 && e.resource == .device { compute += e.end - e.start }
            compute /= Double(steps)
            let meanStep = sim.decodeStepSeconds.reduce(0, +) / Double(steps)
            self.init(policy: run.policy, schedule: m.schedule, reason: m.reason,
                      measuredStepSeconds: run.medianStepSeconds, measuredComputeSeconds: run.medianComputeSeconds,
                      measuredStallSeconds: run.meanStallSeconds, measuredBytesPerStep: run.meanBytes,
                      modeledStepSeconds: OffloadRunComparison.median(sim.decodeStepSeconds), modeledComputeSeconds: compute,
                      modeledStallSeconds: max(0, meanStep - compute),
                      modeledBytesPerStep: sim.bytesHostToDevice / Double(steps))
        }
    }

    public var rows: [Row]
    public var hardware: String
    public var machine: String
    public var tolerance: Double
    /// Predictions closer than this (relative) are ties: their measured order is not checked.
    public var tieFraction: Double

    public init(rows: [Row], hardware: String, machine: String, tolerance: Double = 0.2, tieFraction: Double = 0.05) {
        self.rows = rows
        self.hardware = hardware
        self.machine = machine
        self.tolerance = tolerance
        self.tieFraction = tieFraction
    }

    public init(runs: [OffloadRunResult], hardware: HardwareProfile, shape: ModelShape,
                tolerance: Double = 0.2, tieFraction: Double = 0.05) throws {
        self.init(rows: try runs.map { try Row(run: $0, hardware: hardware, shape: shape) }, hardware: hardware.name,
                  machine: runs.first?.machine ?? OffloadRun.machineDescription,
                  tolerance: tolerance, tieFraction: tieFraction)
    }

    /// Every modeled step time within `tolerance` of the measured one.
    public var withinTolerance: Bool { rows.allSatisfy { abs($0.relativeError) <= tolerance } }

    /// Policies fastest first.
    public var measuredRanking: [String] { rows.sorted { $0.measuredStepSeconds < $1.measuredStepSeconds }.map(\.policy) }
    public var modeledRanking: [String] { rows.sorted { $0.modeledStepSeconds < $1.modeledStepSeconds }.map(\.policy) }

    /// Pairs the model orders (predictions more than `tieFraction` apart) that the
    /// measurement orders the other way.
    public var rankingViolations: [(faster: String, slower: String)] {
        var out: [(String, String)] = []
        for a in rows {
            for b in rows where a.modeledStepSeconds * (1 + tieFraction) < b.modeledStepSeconds {
                if a.measuredStepSeconds > b.measuredStepSeconds { out.append((a.policy, b.policy)) }
            }
        }
        return out
    }

    public var rankingAgrees: Bool { rankingViolations.isEmpty }

    /// One paragraph for reports: whether the check holds, and where it fails.
    public var verdict: String {
        let worst = rows.max { abs($0.relativeError) < abs($1.relativeError) }
        var parts: [String] = []
        if withinTolerance {
            parts.append(String(format: "Every modeled decode step is within %.0f%% of the measured one (worst: %@, %+.1f%%).",
                                100 * tolerance, worst?.policy ?? "-", 100 * (worst?.relativeError ?? 0)))
        } else {
            let misses = rows.filter { abs($0.relativeError) > tolerance }
                .map { String(format: "%@ %+.1f%%", $0.policy, 100 * $0.relativeError) }
            parts.append(String(format: "The %.0f%% check FAILS for %@.", 100 * tolerance, misses.joined(separator: ", ")))
        }
        if rankingAgrees {
            parts.append("The ranking agrees (fastest first, measured: \(measuredRanking.joined(separator: " < ")); modeled: \(modeledRanking.joined(separator: " < ")); predictions within \(Int(100 * tieFraction))% count as ties).")
        } else {
            let v = rankingViolations.map { "model says \($0.faster) < \($0.slower), measured the reverse" }
            parts.append("The ranking DISAGREES: \(v.joined(separator: "; ")).")
        }
        return parts.joined(separator: " ")
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
