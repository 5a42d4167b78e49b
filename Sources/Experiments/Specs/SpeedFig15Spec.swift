import Foundation
import Report

/// Figure 15: the six schemes as the batch grows (OPT-13B, 1920+128 tokens, A6000 PCIe 3.0).
/// Modeled on the `a6000-pcie3` profile.
public struct SpeedFig15Spec: ModeledSpeedExperiment {
    public let id = "fig15"
    public let title = "Figure 15: latency vs batch size, OPT-13B, 1920+128 tokens (modeled)"
    public let paperSetting = [
        Setting("model", "OPT-13B (fp16)"),
        Setting("workload", "batch 4, 8, 12, 16, 20; prompt 1920, 128 generated tokens"),
        Setting("hardware", "RTX A6000 48 GB, PCIe 3.0 x16"),
        Setting("InfiniGen", "alpha 4, partial weight ratio 0.2, max_num_kv 409"),
        Setting("numbers", "measured wall-clock time"),
    ]
    public let ourSetting = [
        Setting("model", "OPT-13B shape (fp16)"),
        Setting("workload", "batch 4, 8, 12, 16, 20; prompt 1920, 128 generated tokens"),
        Setting("hardware", "timeline cost model: profile a6000-pcie3"),
        Setting("InfiniGen", "partial weight ratio 0.2, max_num_kv 409; count assumed to reach the cap (upper bound)"),
        Setting("numbers", "modeled (simulated timeline), never measured"),
    ]

    static let batches = [4, 8, 12, 16, 20]

    public init() {}

    /// Milliseconds per point; quick keeps the ends and the middle (smaller golden file).
    public func configurations(profile: RunProfile) -> [Configuration] {
        (profile == .quick ? [4, 12, 20] : Self.batches).flatMap { b in
            SpeedSchemes.all.map { SpeedPoint(scheme: $0.schedule, batch: b, maxKV: 409).configuration }
        }
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        let batches = Array(Set(results.compactMap { $0.point?.batch })).sorted()
        func total(_ s: SpeedScheme, _ b: Int) -> Double {
            results.first { $0.point?.scheme == s.schedule && $0.point?.batch == b }?.seconds() ?? .nan
        }
        let xs = batches.map(Double.init)
        let latency = SpeedSchemes.all.map { s in PlotSeries(name: s.label, x: xs, y: batches.map { total(s, $0) }) }
        let speedup = SpeedSchemes.baselines.map { s in
            PlotSeries(name: "over \(s.label)", x: xs, y: batches.map { total(s, $0) / total(SpeedSchemes.infinigen, $0) })
        }
        let tag = HardwareNames.modeledTag(HardwareNames.paper)
        let plot = PlotSpec(id: id, title: "Fig. 15: OPT-13B, 1920+128 tokens, by batch size \(tag)", panels: [
            PlotPanel(title: "Latency of one batch", x: PlotAxis("batch size", unit: "sequences"),
                      y: PlotAxis("total latency", unit: "s, log scale", logScale: true), kind: .linespoints,
                      series: latency, key: .bottomRight),
            PlotPanel(title: "InfiniGen speedup", x: PlotAxis("batch size", unit: "sequences"),
                      y: PlotAxis("baseline latency / InfiniGen latency", unit: "x"), kind: .linespoints,
                      series: speedup, key: .topLeft),
        ], width: 1500, height: 600)
        let rows = SpeedSchemes.all.map { s in [s.label] + batches.map { SpeedSummary.seconds(total(s, $0)) } }
        let table = ReportTable(title: "Modeled total latency (s) \(tag)",
                                header: ["scheme"] + batches.map { "batch \($0)" }, rows: rows)
        let first = batches.first ?? 0, last = batches.last ?? 0
        let trend = SpeedSchemes.baselines.map { s in
            "\(s.label) \(SpeedSummary.ratio(total(s, first) / total(SpeedSchemes.infinigen, first))) -> "
                + SpeedSummary.ratio(total(s, last) / total(SpeedSchemes.infinigen, last))
        }.joined(separator: ", ")
        return ExperimentOutput(
            tables: [table], plots: [plot],
            differences: [
                "Modeled on the a6000-pcie3 profile; nothing is timed.",
                "InfiniGen's count assumed to reach max_num_kv (409) every step and layer (upper bound on its traffic).",
            ],
            text: "All numbers are **modeled** (a6000-pcie3). InfiniGen's modeled speedup from batch \(first) to batch \(last): \(trend). The paper's figure gives no numbers to compare with.")
    }
}
