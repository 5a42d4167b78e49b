import Foundation
import Report

/// Figure 16a: latency vs prompt length (OPT-13B, batch 8). The artifact runs only the
/// FlexGen-based schemes here, with max_num_kv = (prompt + 128) / 5. Modeled on `a6000-pcie3`.
public struct SpeedFig16aSpec: ModeledSpeedExperiment {
    public let id = "fig16a"
    public let title = "Figure 16a: latency vs prompt length, OPT-13B, batch 8, +128 generated (modeled)"
    public let paperSetting = [
        Setting("model", "OPT-13B (fp16)"),
        Setting("workload", "batch 8; prompt 384, 896, 1408, 1920; 128 generated tokens"),
        Setting("hardware", "RTX A6000 48 GB, PCIe 3.0 x16"),
        Setting("InfiniGen", "alpha 4, partial weight ratio 0.2, max_num_kv = (prompt + 128) / 5"),
        Setting("numbers", "measured wall-clock time"),
    ]
    public let ourSetting = [
        Setting("model", "OPT-13B shape (fp16)"),
        Setting("workload", "batch 8; prompt 384, 896, 1408, 1920; 128 generated tokens"),
        Setting("hardware", "timeline cost model: profile a6000-pcie3"),
        Setting("InfiniGen", "partial weight ratio 0.2, max_num_kv = (prompt + 128) / 5; count assumed to reach the cap"),
        Setting("numbers", "modeled (simulated timeline), never measured"),
    ]

    static let prompts = [384, 896, 1408, 1920]

    public init() {}

    public func configurations(profile: RunProfile) -> [Configuration] {
        // Quick keeps the shortest and the paper's longest prompt (smaller golden file).
        (profile == .quick ? [384, 1920] : Self.prompts).flatMap { p in
            SpeedSchemes.flexgenFamily.map {
                SpeedPoint(scheme: $0.schedule, batch: 8, prompt: p, maxKV: (p + 128) / 5).configuration
            }
        }
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        let prompts = Array(Set(results.compactMap { $0.point?.prompt })).sorted()
        return SpeedGroups.output(
            id: id, results: results, groups: prompts.map { p in ("\(p)+128", { (pt: SpeedPoint) in pt.prompt == p }) },
            groupAxis: PlotAxis("prompt + generated", unit: "tokens"),
            title: "Fig. 16a: OPT-13B, batch 8, by prompt length \(HardwareNames.modeledTag(HardwareNames.paper))",
            differences: ["Modeled on the a6000-pcie3 profile; InfiniGen's count assumed to reach max_num_kv = (prompt + 128) / 5."])
    }
}

/// Figure 16b: latency for OPT-6.7B, 13B and 30B (batch 4, 1920+128); OPT-30B keeps 70% of
/// its weights on the GPU and streams the rest every step. Modeled on `a6000-pcie3`.
public struct SpeedFig16bSpec: ModeledSpeedExperiment {
    public let id = "fig16b"
    public let title = "Figure 16b: latency vs model size, OPT-6.7B/13B/30B, batch 4, 1920+128 tokens (modeled)"
    public let paperSetting = [
        Setting("model", "OPT-6.7B, OPT-13B, OPT-30B (fp16); OPT-30B weights 70% GPU, 30% CPU"),
        Setting("workload", "batch 4, prompt 1920, 128 generated tokens"),
        Setting("hardware", "RTX A6000 48 GB, PCIe 3.0 x16"),
        Setting("InfiniGen", "alpha 4, partial weight ratio 0.2, max_num_kv 409"),
        Setting("numbers", "measured wall-clock time"),
    ]
    public let ourSetting = [
        Setting("model", "OPT-6.7B, OPT-13B, OPT-30B shapes (fp16); OPT-30B weights 70% on device, the rest crosses the link every step"),
        Setting("workload", "batch 4, prompt 1920, 128 generated tokens"),
        Setting("hardware", "timeline cost model: profile a6000-pcie3"),
        Setting("InfiniGen", "partial weight ratio 0.2, max_num_kv 409; count assumed to reach the cap"),
        Setting("numbers", "modeled (simulated timeline), never measured"),
    ]

    static let models = ["opt-6.7b", "opt-13b", "opt-30b"]

    public init() {}

    public func configurations(profile: RunProfile) -> [Configuration] {
        Self.models.flatMap { m in
            SpeedSchemes.flexgenFamily.map { SpeedPoint(scheme: $0.schedule, model: m, batch: 4, maxKV: 409).configuration }
        }
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        let models = Self.models.filter { m in results.contains { $0.point?.model == m } }
        return SpeedGroups.output(
            id: id, results: results,
            groups: models.map { m in (m.uppercased(), { (pt: SpeedPoint) in pt.model == m }) },
            groupAxis: PlotAxis("model", unit: ""),
            title: "Fig. 16b: batch 4, 1920+128 tokens, by model \(HardwareNames.modeledTag(HardwareNames.paper))",
            differences: ["Modeled on the a6000-pcie3 profile; InfiniGen's count assumed to reach max_num_kv (409).",
                          "OPT-30B's off-device 30% of weights crosses the link every step in every scheme (pinned)."])
    }
}

/// Grouped bars (one group per sweep value, one bar per scheme), a totals table, and
/// InfiniGen's speedups, shared by the figure 16 panels and the what-if figure.
enum SpeedGroups {
    static func output(id: String, results: [ExperimentResult],
                       groups: [(label: String, matches: (SpeedPoint) -> Bool)], groupAxis: PlotAxis,
                       title: String, schemes: [SpeedScheme] = SpeedSchemes.flexgenFamily,
                       logScale: Bool = false, key: KeyPosition = .topLeft, width: Int = 1100,
                       differences: [String]) -> ExperimentOutput {
        func total(_ s: SpeedScheme, _ g: Int) -> Double {
            results.first { r in r.point.map { $0.scheme == s.schedule && groups[g].matches($0) } ?? false }?.seconds() ?? .nan
        }
        let present = schemes.filter { s in groups.indices.contains { total(s, $0).isFinite } }
        let panel = PlotPanel(x: groupAxis, y: PlotAxis("total latency", unit: logScale ? "s, log scale" : "s", logScale: logScale),
                              kind: .groupedBars,
                              series: present.map { s in PlotSeries(name: s.label, values: groups.indices.map { total(s, $0) }) },
                              categories: groups.map(\.label), key: key)
        let plot = PlotSpec(id: id, title: title, panel: panel, width: width, height: 600)
        let table = ReportTable(title: "Modeled total latency (s)", header: ["scheme"] + groups.map(\.label),
                                rows: present.map { s in [s.label] + groups.indices.map { SpeedSummary.seconds(total(s, $0)) } })
        let ours = SpeedSchemes.infinigen
        let speedups = ReportTable(
            title: "InfiniGen's modeled speedup (baseline total / InfiniGen total)",
            header: ["over"] + groups.map(\.label),
            rows: present.filter { SpeedSchemes.baselines.contains($0) }.map { s in
                ["\(s.label)"] + groups.indices.map { SpeedSummary.ratio(total(s, $0) / total(ours, $0)) }
            })
        return ExperimentOutput(tables: [table, speedups], plots: [plot], differences: differences,
                                text: "All numbers are **modeled** from the timeline simulator, not measured. The paper's figure gives no numbers to compare with.")
    }
}
