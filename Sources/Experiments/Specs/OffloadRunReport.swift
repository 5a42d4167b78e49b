import Evaluation
import Foundation
import Report

/// Text and JSON renderings of offload runs (and their comparison with the simulator) for
/// the `offload-run` command. Run numbers say "measured on <cpu>", simulator numbers
/// "modeled".
public enum OffloadRunReport {
    public static func text(_ runs: [OffloadRunResult], comparison: OffloadRunComparison?) -> String {
        var out: [String] = []
        func ms(_ s: Double) -> String { String(format: "%.2f ms", s * 1e3) }
        for r in runs {
            out.append("policy \(r.policy): prompt \(r.prompt), \(r.generate) decode steps, batch \(r.batch), \(r.text) (\(r.inputs))")
            out.append("  measured on \(r.machine); load average \(String(format: "%.2f", r.loadBefore)) before, \(String(format: "%.2f", r.loadAfter)) after")
            out.append("  reads: " + (r.selectsAhead ? "selected a layer ahead, copies overlap compute" : "managed layers fetched on demand")
                       + String(format: "; %.0f%% of rows prefetched", 100 * prefetchedShare(r)))
            let rows = [
                ["step time (median)", ms(r.medianStepSeconds)],
                ["step time (mean)", ms(r.meanStepSeconds)],
                ["compute per step (median)", ms(r.medianComputeSeconds)],
                ["engine thread CPU per step (median)", ms(r.medianEngineCPUSeconds)],
                ["step on the engine CPU clock (median)", ms(r.medianCPUClockSeconds)],
                ["stall per step (mean)", ms(r.meanStallSeconds)],
                ["copy per step (mean)", ms(r.meanCopySeconds)],
                ["policy hooks per step (mean)", ms(r.meanPolicySeconds)],
                ["bytes copied per step (mean)", String(format: "%.3f MB", r.meanBytes / 1e6)],
                ["rows read per step (all layers)", String(format: "%.0f", r.meanRowsPerLayer.reduce(0, +))],
                ["prefill", ms(r.prefillSeconds)],
            ]
            out.append(table(["measured", "value"], rows, indent: "  "))
            let perLayer = r.meanRowsPerLayer.enumerated().map { String(format: "%d:%.0f", $0.offset, $0.element) }
            out.append("  rows read per step by layer (sum over sequences and KV heads): " + perLayer.joined(separator: " "))
            out.append("")
        }
        if let c = comparison {
            out.append("simulator (modeled, profile \(c.hardware)) vs real run (measured on \(c.machine)):")
            let rows = c.rows.map { row in
                [row.policy, row.schedule, ms(row.measuredStepSeconds), ms(row.measuredCPUClockStepSeconds),
                 ms(row.modeledStepSeconds), String(format: "%+.1f%%", 100 * row.relativeError),
                 String(format: "%+.1f%%", 100 * row.cpuClockRelativeError),
                 ms(row.measuredComputeSeconds), ms(row.modeledComputeSeconds),
                 ms(row.measuredStallSeconds), ms(row.modeledStallSeconds),
                 String(format: "%.3f", row.measuredBytesPerStep / 1e6), String(format: "%.3f", row.modeledBytesPerStep / 1e6)]
            }
            out.append(table(["policy", "schedule", "step measured", "step (CPU clock)", "step modeled", "error", "error (CPU clock)",
                              "compute measured", "compute modeled", "stall measured", "stall modeled",
                              "MB/step measured", "MB/step modeled"], rows, indent: "  "))
            for row in c.rows { out.append("  \(row.policy) -> \(row.schedule): \(row.reason)") }
            out.append("  " + c.verdict)
        }
        return out.joined(separator: "\n")
    }

    public static func json(_ runs: [OffloadRunResult], comparison: OffloadRunComparison?) throws -> String {
        struct Dump: Encodable {
            let runs: [OffloadRunResult]
            let comparison: OffloadRunComparison?
            let withinTolerance: Bool?
            let rankingAgrees: Bool?
            let cpuClockWithinTolerance: Bool?
            let cpuClockRankingAgrees: Bool?
            let verdict: String?
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let dump = Dump(runs: runs, comparison: comparison, withinTolerance: comparison?.withinTolerance(.wall),
                        rankingAgrees: comparison?.rankingAgrees(.wall),
                        cpuClockWithinTolerance: comparison?.withinTolerance(.cpu),
                        cpuClockRankingAgrees: comparison?.rankingAgrees(.cpu), verdict: comparison?.verdict)
        return String(decoding: try enc.encode(dump), as: UTF8.self)
    }

    static func prefetchedShare(_ r: OffloadRunResult) -> Double {
        let total = r.steps.reduce(0) { $0 + $1.prefetchedRows + $1.demandRows }
        return total > 0 ? Double(r.steps.reduce(0) { $0 + $1.prefetchedRows }) / Double(total) : 0
    }

    static func table(_ header: [String], _ rows: [[String]], indent: String) -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, cell) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            indent + cells.enumerated().map { i, c in
                i == 0 ? c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                       : String(repeating: " ", count: widths[i] - c.count) + c
            }.joined(separator: "  ")
        }
        return ([line(header), indent + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
                + rows.map(line)).joined(separator: "\n")
    }
}
