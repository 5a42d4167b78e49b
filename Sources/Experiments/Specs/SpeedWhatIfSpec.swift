import Foundation
import Offload
import Report

/// What if figure 14 ran on newer machines? The same setting (OPT-13B, batch 20, 1920+128,
/// max_num_kv 400) on A100 PCIe 4.0, H100 PCIe 5.0 and GH200 NVLink-C2C profiles, beside the
/// paper's A6000 PCIe 3.0. Entirely modeled: nobody has run these.
public struct SpeedWhatIfSpec: ModeledSpeedExperiment {
    public let id = "fig14-whatif"
    public let title = "What-if: figure 14's setting on A100 PCIe 4.0, H100 PCIe 5.0 and GH200 NVLink-C2C (modeled)"
    public let paperSetting = [
        Setting("hardware", "RTX A6000 on PCIe 3.0 only"),
        Setting("model", "OPT-13B, batch 20, prompt 1920, 128 generated tokens"),
    ]
    public let ourSetting = [
        Setting("hardware", "profiles a6000-pcie3 (paper), a100-80gb-pcie4, h100-pcie5, gh200-nvlink-c2c"),
        Setting("model", "OPT-13B shape, batch 20, prompt 1920, 128 generated tokens; InfiniGen max_num_kv 400, count at the cap"),
        Setting("numbers", "modeled (simulated timeline), never measured"),
    ]

    static let profiles = [HardwareNames.paper, "a100-80gb-pcie4", "h100-pcie5", "gh200-nvlink-c2c"]

    public init() {}

    public func configurations(profile: RunProfile) -> [Configuration] {
        Self.profiles.flatMap { h in
            SpeedSchemes.all.map { SpeedPoint(scheme: $0.schedule, hardware: h, batch: 20, maxKV: 400).configuration }
        }
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        let profiles = Self.profiles.filter { h in results.contains { $0.point?.hardware == h } }
        var out = SpeedGroups.output(
            id: id, results: results,
            groups: profiles.map { h in (HardwareNames.display(h), { (pt: SpeedPoint) in pt.hardware == h }) },
            groupAxis: PlotAxis("hardware profile", unit: ""),
            title: "What-if: fig. 14 setting (OPT-13B, batch 20, 1920+128) on other machines (modeled, one profile per group)",
            schemes: SpeedSchemes.all, logScale: true, key: .outsideRight, width: 1350,
            differences: ["No paper counterpart: the paper measured only the A6000 on PCIe 3.0.",
                          "Profiles are datasheet numbers plus stated efficiency assumptions (see each profile's sources); nothing is measured."])
        func total(_ s: SpeedScheme, _ h: String) -> Double {
            results.first { $0.point?.scheme == s.schedule && $0.point?.hardware == h }?.seconds() ?? .nan
        }
        func value(_ s: SpeedScheme, _ h: String, _ name: String) -> Double {
            results.first { $0.point?.scheme == s.schedule && $0.point?.hardware == h }?.seconds(name) ?? .nan
        }
        var lines: [String] = []
        for h in profiles {
            let ours = total(SpeedSchemes.infinigen, h)
            let best = SpeedSchemes.baselines.min { total($0, h) < total($1, h) }!
            let link = (try? HardwareProfile.load(named: h)).map { String(format: "%.1f GB/s pinned host-to-device", $0.h2dPinnedGBps) } ?? ""
            let f = SpeedSummary.seconds
            lines.append("- \(HardwareNames.display(h)) (\(link)): InfiniGen \(f(ours)) s (link busy "
                         + "\(f(value(SpeedSchemes.infinigen, h, "h2d_busy_s"))) s, host CPU busy \(f(value(SpeedSchemes.infinigen, h, "host_busy_s"))) s); "
                         + "fastest prior scheme \(best.label) \(f(total(best, h))) s, InfiniGen speedup \(SpeedSummary.ratio(total(best, h) / ours))")
        }
        out.text = "All numbers are **modeled**; each group is one hardware profile. InfiniGen against the fastest prior scheme:\n\n"
            + lines.joined(separator: "\n")
            + "\n\nA faster link shrinks every offloading scheme's transfer time. Where the link stops dominating, InfiniGen's "
            + "host-side work (gathering the selected rows into a pinned buffer, staging the dense layers' KV) sets its pace, "
            + "as the host CPU busy time above shows."
        return out
    }
}
