import Foundation
import Offload
import Report

/// Figure 14: latency of one batch (prefill + decode) for the six schemes on the paper's
/// machine, OPT-13B, batch 20, prompt 1920, 128 generated tokens. Modeled with the
/// timeline simulator on the `a6000-pcie3` profile; nothing here is measured.
public struct SpeedFig14Spec: ModeledSpeedExperiment {
    public let id = "fig14"
    public let title = "Figure 14: inference latency of the offloading schemes, OPT-13B, batch 20, 1920+128 tokens (modeled)"
    public let paperSetting = [
        Setting("model", "OPT-13B (fp16)"),
        Setting("workload", "batch 20, prompt 1920, 128 generated tokens"),
        Setting("hardware", "RTX A6000 48 GB, PCIe 3.0 x16, Xeon Gold 6136, 96 GB DDR4-2666"),
        Setting("placement", "weights 100% on GPU, KV cache 100% on CPU"),
        Setting("InfiniGen", "alpha 4, partial weight ratio 0.2, max_num_kv 400"),
        Setting("numbers", "measured wall-clock time"),
    ]
    public let ourSetting = [
        Setting("model", "OPT-13B shape (fp16); no weights are loaded"),
        Setting("workload", "batch 20, prompt 1920, 128 generated tokens"),
        Setting("hardware", "timeline cost model of that machine: profile a6000-pcie3"),
        Setting("placement", "weights 100% on GPU, KV cache 100% on CPU"),
        Setting("InfiniGen", "partial weight ratio 0.2, max_num_kv 400; count assumed to reach the cap every step (upper bound)"),
        Setting("numbers", "modeled (simulated timeline), never measured"),
    ]

    /// A third-party rerun of this figure's setting (hardware unknown).
    static let rerun: [(scheme: SpeedScheme, seconds: Double)] = [
        (SpeedSchemes.uvm, 553), (SpeedSchemes.uvmH2O, 549), (SpeedSchemes.flexgen, 973),
        (SpeedSchemes.int4, 299), (SpeedSchemes.h2o, 140), (SpeedSchemes.infinigen, 88),
    ]
    static let rerunSource = "third-party rerun of fig. 14's setting (hardware unknown)"
    static let claimQuantity = "largest InfiniGen speedup over a prior KV-cache method"

    public var referenceValues: [ReferenceValue] {
        Self.rerun.map { ReferenceValue("total latency, \($0.scheme.label)", $0.seconds, unit: "s", source: Self.rerunSource) }
            + [ReferenceValue(Self.claimQuantity, 3.00, unit: "x", source: "paper abstract: up to 3.00x over prior KV-cache management methods")]
    }


    public init() {}

    public func configurations(profile: RunProfile) -> [Configuration] {
        // Simulations take milliseconds: every profile runs every scheme, with the paper's
        // schedule knobs and, as a second set, the artifact scripts' (--overlap false).
        ["paper", "artifact"].flatMap { o in
            SpeedSchemes.all.map { SpeedPoint(scheme: $0.schedule, batch: 20, maxKV: 400, options: o).configuration }
        }
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        let paper = results.filter { $0.point?.options == "paper" }
        let artifact = results.filter { $0.point?.options == "artifact" }
        func total(_ set: [ExperimentResult], _ s: SpeedScheme) throws -> ExperimentResult {
            guard let r = set.first(where: { $0.point?.scheme == s.schedule }) else {
                throw ExperimentError("fig14: no result for \(s.schedule)")
            }
            return r
        }
        let ours = try total(paper, SpeedSchemes.infinigen).seconds()
        let oursArtifact = try total(paper, SpeedSchemes.infinigenArtifact).seconds()
        let tag = HardwareNames.modeledTag(HardwareNames.paper)

        // Figure: stacked prefill + decode per scheme; second figure: against the rerun.
        let shown = SpeedSchemes.all
        let bars = try shown.map { try total(paper, $0) }
        let stacked = PlotPanel(
            x: PlotAxis("scheme", unit: ""), y: PlotAxis("latency of one batch", unit: "s"), kind: .stackedBars,
            series: [PlotSeries(name: "prefill", values: bars.map { $0.seconds("prefill_s") }),
                     PlotSeries(name: "decode (127 steps)", values: bars.map { $0.seconds("decode_s") })],
            categories: shown.map(\.shortLabel), key: .topRight)
        let main = PlotSpec(id: id, title: "Fig. 14: OPT-13B, batch 20, 1920+128 tokens \(tag)", panel: stacked,
                            width: 1200, height: 600)
        let versus = PlotPanel(
            x: PlotAxis("scheme", unit: ""), y: PlotAxis("total latency", unit: "s"), kind: .groupedBars,
            series: [PlotSeries(name: "modeled (A6000 PCIe 3.0 profile)",
                                values: try Self.rerun.map { try total(paper, $0.scheme).seconds() }),
                     PlotSeries(name: "third-party rerun (hardware unknown)", values: Self.rerun.map(\.seconds))],
            categories: Self.rerun.map(\.scheme.shortLabel), key: .topRight)
        let second = PlotSpec(id: "\(id)-rerun", title: "Fig. 14 setting: modeled totals vs a third-party rerun \(tag)",
                              panel: versus, width: 1000, height: 600)

        var tables = [SpeedSummary.schemeTable("Modeled latency, schedule knobs as the paper describes (FlexGen overlap on) \(tag)",
                                               results: paper, schemes: shown, infinigenTotal: ours)]
        if !artifact.isEmpty {
            let base = try total(artifact, SpeedSchemes.infinigen).seconds()
            tables.append(SpeedSummary.schemeTable("Modeled latency, the artifact scripts' knobs (--overlap false) \(tag)",
                                                   results: artifact, schemes: shown, infinigenTotal: base))
        }

        return ExperimentOutput(tables: tables, plots: [main, second],
                                comparisons: try comparisons(paper, ours: ours, oursArtifact: oursArtifact),
                                differences: differences, text: try analysis(paper, ours: ours))
    }

    /// Modeled totals beside the rerun, InfiniGen's speedups beside the rerun's ratios and
    /// the paper's claim.
    func comparisons(_ paper: [ExperimentResult], ours: Double, oursArtifact: Double) throws -> [Comparison] {
        func modeled(_ s: SpeedScheme) -> Double {
            paper.first { $0.point?.scheme == s.schedule }?.seconds() ?? .nan
        }
        var out: [Comparison] = Self.rerun.map { ref in
            comparison("total latency, \(ref.scheme.label)", ours: modeled(ref.scheme), origin: .modeled,
                       note: "\(Self.rerunSource); ours modeled on a6000-pcie3")
        }
        out.append(Comparison(quantity: "total latency, \(SpeedSchemes.infinigenArtifact.label)", unit: "s", paper: 88,
                              ours: oursArtifact, origin: .modeled,
                              note: "the rerun ran the artifact's code; ours models its layer order on a6000-pcie3"))
        let rerunInfiniGen = Self.rerun.last!.seconds
        for ref in Self.rerun.dropLast() {
            out.append(Comparison(quantity: "InfiniGen speedup over \(ref.scheme.label)", unit: "x",
                                  paper: ref.seconds / rerunInfiniGen, ours: modeled(ref.scheme) / ours, origin: .modeled,
                                  note: "paper column: ratio of the rerun's totals; ours: ratio of modeled totals (a6000-pcie3)"))
        }
        let best = SpeedSchemes.kvManagement.map { modeled($0) / ours }.max() ?? .nan
        let bestArtifact = SpeedSchemes.kvManagement.map { modeled($0) / oursArtifact }.max() ?? .nan
        out.append(comparison(Self.claimQuantity, ours: best, origin: .modeled,
                              note: "paper abstract (up to 3.00x); ours: max over UVM+H2O, FlexGen+INT4, FlexGen+H2O, InfiniGen as figure 8 (a6000-pcie3)"))
        out.append(Comparison(quantity: Self.claimQuantity + ", artifact layer order", unit: "x", paper: 3.00,
                              ours: bestArtifact, origin: .modeled,
                              note: "InfiniGen with the artifact's prefetch order (overlaps only the MLP; artifact issue #9)"))
        return out
    }

    var differences: [String] {
        [
            "Every number is modeled: a discrete-event timeline of the schemes on a cost model of the A6000 PCIe 3.0 machine (profile a6000-pcie3); nothing is timed.",
            "InfiniGen's per-layer count is assumed to reach max_num_kv (400) at every step and layer, an upper bound on its traffic; the real count depends on the text.",
            "FlexGen+H2O keeps 2 x 0.1 x prompt = 384 tokens per layer (the artifact's script passes --max-num-kv 415).",
            "The reference totals come from a third-party rerun on unknown hardware, not from the paper, whose figure gives bars without published numbers.",
        ]
    }

    /// The gaps to the rerun, explained from the modeled numbers themselves.
    func analysis(_ paper: [ExperimentResult], ours: Double) throws -> String {
        func r(_ s: SpeedScheme) -> ExperimentResult? { paper.first { $0.point?.scheme == s.schedule } }
        guard let flexgen = r(SpeedSchemes.flexgen), let int4 = r(SpeedSchemes.int4), let h2o = r(SpeedSchemes.h2o),
              let uvm = r(SpeedSchemes.uvm), let uvmH2O = r(SpeedSchemes.uvmH2O), let ig = r(SpeedSchemes.infinigen)
        else { throw ExperimentError("fig14: a scheme is missing from the results") }
        let hw = try HardwareProfile.load(named: HardwareNames.paper)
        // FlexGen's KV home is pageable: every byte loaded is first copied into a pinned
        // relay. The model runs that copy at the all-core host bandwidth; the artifact's
        // pin_memory() is one thread.
        let staged = flexgen.seconds("h2d_gb") * 1e9
        let extra = staged / (hw.hostMemcpyGBps * 1e9) - staged / (hw.hostMemoryBandwidthGBps * 1e9)
        let f = SpeedSummary.seconds
        let capacityGiB = hw.deviceMemoryGiB - hw.deviceReservedGiB
        return """
        All numbers are **modeled** on the a6000-pcie3 profile (A6000, PCIe 3.0); the reference totals are a \
        third-party rerun on unknown hardware, so only the shape of the comparison is meaningful.

        - **FlexGen family too fast.** Modeled FlexGen \(f(flexgen.seconds())) s vs 973 s, FlexGen+INT4 \
        \(f(int4.seconds())) s vs 299 s, FlexGen+H2O \(f(h2o.seconds())) s vs 140 s. Their KV home is pageable, so every \
        load is first copied into a pinned relay; the model assumes that staging copy runs multi-threaded at \
        \(f(hw.hostMemoryBandwidthGBps)) GB/s. The artifact's `pin_memory()` copy is single-threaded \
        (~\(f(hw.hostMemcpyGBps)) GB/s on this profile): staging FlexGen's \(String(format: "%.0f", staged / 1e9)) GB on one \
        thread would add about \(f(extra)) s (an estimate from the modeled bytes, not a fitted constant).
        - **UVM matches by coincidence.** Modeled \(f(uvm.seconds())) s vs 553 s: the UVM model rests on estimated \
        fault and migration costs that were never calibrated against a run.
        - **UVM+H2O fits in memory in the model.** Modeled \(f(uvmH2O.seconds())) s (decode \(f(uvmH2O.seconds("decode_s"))) s) \
        vs 549 s: with 0.2 x prompt tokens per layer the weights and the H2O cache fit in the \(f(capacityGiB)) GiB of usable \
        device memory, so decode hardly pages; only prefill (full-prompt KV and eager attention workspace) overflows. \
        The rerun's decode evidently paid far more.
        - **InfiniGen depends mostly on k.** Modeled \(f(ig.seconds())) s vs 88 s, with k = max_num_kv = 400 rows per \
        layer and step (upper bound): \(String(format: "%.0f", ig.seconds("h2d_gb"))) GB cross the link, and decode is \
        link-bound (device idle \(f(ig.seconds("device_idle_s"))) s of \(f(ig.seconds())) s). Figure 17 shows how the \
        time moves with the count.

        Speedups of InfiniGen (modeled, figure 8 schedule) over the prior KV-cache methods: \
        \(SpeedSchemes.kvManagement.compactMap { s in r(s).map { "\(s.label) \(SpeedSummary.ratio($0.seconds() / ours))" } }.joined(separator: ", ")); \
        the paper claims up to 3.00x.
        """
    }
}
