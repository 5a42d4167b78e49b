import Evaluation
import Foundation
import Offload

/// Modeled against measured decode step time for each real two-tier run, and the check
/// the simulator must pass on this machine: every prediction within `tolerance` of the
/// measurement, and the same ranking.
///
/// The check is made on the wall clock (the measurement proper) and, as a second opinion,
/// on the engine thread's CPU clock (its CPU time plus its waits for the prefetch thread),
/// which other processes sharing the cores inflate far less.
public struct OffloadRunComparison: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var policy: String
        public var schedule: String
        public var reason: String
        /// Measured (medians over the decode steps; stall is a mean).
        public var measuredStepSeconds: Double
        public var measuredCPUClockStepSeconds: Double
        public var measuredComputeSeconds: Double
        public var measuredStallSeconds: Double
        public var measuredBytesPerStep: Double
        /// Modeled (median over the simulated decode steps; compute and stall are means).
        public var modeledStepSeconds: Double
        public var modeledComputeSeconds: Double
        public var modeledStallSeconds: Double
        public var modeledBytesPerStep: Double

        /// (modeled - measured) / measured step time.
        public var relativeError: Double { modeledStepSeconds / measuredStepSeconds - 1 }
        public var cpuClockRelativeError: Double { modeledStepSeconds / measuredCPUClockStepSeconds - 1 }

        public init(policy: String, schedule: String, reason: String, measuredStepSeconds: Double,
                    measuredCPUClockStepSeconds: Double, measuredComputeSeconds: Double, measuredStallSeconds: Double,
                    measuredBytesPerStep: Double, modeledStepSeconds: Double, modeledComputeSeconds: Double,
                    modeledStallSeconds: Double, modeledBytesPerStep: Double) {
            self.policy = policy
            self.schedule = schedule
            self.reason = reason
            self.measuredStepSeconds = measuredStepSeconds
            self.measuredCPUClockStepSeconds = measuredCPUClockStepSeconds
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
            let steps = Double(max(1, run.generate))
            var compute = 0.0
            for e in sim.timeline where e.step >= 1 && e.resource == .device { compute += e.end - e.start }
            compute /= steps
            let meanStep = sim.decodeStepSeconds.reduce(0, +) / steps
            self.init(policy: run.policy, schedule: m.schedule, reason: m.reason,
                      measuredStepSeconds: run.medianStepSeconds, measuredCPUClockStepSeconds: run.medianCPUClockSeconds,
                      measuredComputeSeconds: run.medianComputeSeconds, measuredStallSeconds: run.meanStallSeconds,
                      measuredBytesPerStep: run.meanBytes,
                      modeledStepSeconds: OffloadRunComparison.median(sim.decodeStepSeconds), modeledComputeSeconds: compute,
                      modeledStallSeconds: max(0, meanStep - compute), modeledBytesPerStep: sim.bytesHostToDevice / steps)
        }
    }

    /// Which measured step time a check uses.
    public enum Clock: String, Codable, Sendable {
        case wall, cpu
        func measured(_ r: Row) -> Double { self == .wall ? r.measuredStepSeconds : r.measuredCPUClockStepSeconds }
    }

    public var rows: [Row]
    public var hardware: String
    public var machine: String
    public var tolerance: Double
    /// Pairs closer than this (relative) in the model or in the measurement are ties: their
    /// order is not checked.
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
        var rows = try runs.map { try Row(run: $0, hardware: hardware, shape: shape) }
        for (i, label) in Self.labels(runs.map(\.policy)).enumerated() { rows[i].policy = label }
        self.init(rows: rows, hardware: hardware.name, machine: runs.first?.machine ?? OffloadRun.machineDescription,
                  tolerance: tolerance, tieFraction: tieFraction)
    }

    /// Method names when they tell the policies apart, else the full specs.
    public static func labels(_ specs: [String]) -> [String] {
        let names = specs.map { String($0.split(separator: ":").first ?? Substring($0)) }
        return Set(names).count == names.count ? names : specs
    }

    func error(_ r: Row, _ clock: Clock) -> Double { r.modeledStepSeconds / clock.measured(r) - 1 }

    /// Every modeled step time within `tolerance` of the measured one.
    public func withinTolerance(_ clock: Clock = .wall) -> Bool { rows.allSatisfy { abs(error($0, clock)) <= tolerance } }

    /// Policies fastest first.
    public func measuredRanking(_ clock: Clock = .wall) -> [String] {
        rows.sorted { clock.measured($0) < clock.measured($1) }.map(\.policy)
    }
    public var modeledRanking: [String] { rows.sorted { $0.modeledStepSeconds < $1.modeledStepSeconds }.map(\.policy) }

    /// Pairs the model and the measurement order differently, among those both separate
    /// by more than `tieFraction` (closer pairs are ties: which is faster is within noise).
    public func rankingViolations(_ clock: Clock = .wall) -> [(faster: String, slower: String)] {
        var out: [(String, String)] = []
        for a in rows {
            for b in rows where a.modeledStepSeconds * (1 + tieFraction) < b.modeledStepSeconds {
                if clock.measured(a) > clock.measured(b) * (1 + tieFraction) { out.append((a.policy, b.policy)) }
            }
        }
        return out
    }

    public func rankingAgrees(_ clock: Clock = .wall) -> Bool { rankingViolations(clock).isEmpty }

    /// Both checks on the wall clock.
    public var holds: Bool { withinTolerance(.wall) && rankingAgrees(.wall) }

    /// One paragraph for reports: whether the check holds on each clock, and where it fails.
    public var verdict: String {
        var parts = [check(.wall, label: "Wall clock (the measurement)")]
        parts.append(check(.cpu, label: "Engine CPU clock (CPU time plus waits for the prefetch thread; other processes inflate it far less)"))
        return parts.joined(separator: " ")
    }

    func check(_ clock: Clock, label: String) -> String {
        let worst = rows.max { abs(error($0, clock)) < abs(error($1, clock)) }
        var text = label + ": "
        if withinTolerance(clock) {
            text += String(format: "every modeled decode step is within %.0f%% of the measured one (worst %@, %+.1f%%)",
                           100 * tolerance, worst?.policy ?? "-", 100 * (worst.map { error($0, clock) } ?? 0))
        } else {
            let misses = rows.filter { abs(error($0, clock)) > tolerance }
                .map { String(format: "%@ %+.1f%%", $0.policy, 100 * error($0, clock)) }
            text += String(format: "the %.0f%% check FAILS for %@", 100 * tolerance, misses.joined(separator: ", "))
        }
        if rankingAgrees(clock) {
            text += "; the ranking agrees (fastest first, measured: \(measuredRanking(clock).joined(separator: " < ")); modeled: \(modeledRanking.joined(separator: " < ")); pairs within \(Int(100 * tieFraction))% in the model or the measurement are ties)."
        } else {
            let v = rankingViolations(clock).map { "model says \($0.faster) < \($0.slower), measured the reverse" }
            text += "; the ranking DISAGREES: \(v.joined(separator: "; "))."
        }
        return text
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
