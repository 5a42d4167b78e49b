import Evaluation
import Foundation
import Report

/// Figure 17's accuracy half: WinoGrande 5-shot accuracy as alpha sweeps 1..9 (ratio 0.2)
/// and as the partial ratio sweeps 0.1..1.0 (alpha 5), both with the 20% budget cap
/// (the paper's max_num_kv 409 of 2048).
public struct Fig17AccuracySpec: FewShotExperiment {
    public let id = "fig17-accuracy"
    public let title = "WinoGrande accuracy vs alpha and partial weight ratio"
    public let paperSetting = [
        Setting("model", "OPT-13B"),
        Setting("task", "WinoGrande 5-shot"),
        Setting("sweeps", "alpha 1..9; partial ratio 0.1..1.0; max_num_kv 409 (20% of 2048)"),
    ]
    public let ourSetting = [
        Setting("model", FewShot5.modelNote),
        Setting("task", "WinoGrande 5-shot (OLMES rc requests)"),
        Setting("sweeps", "alpha 1..9 at ratio 0.2; ratio 0.1..1.0 at alpha \(Int(Fig17AccuracySpec.fixedAlpha)); budget 0.2 of the sequence"),
    ]
    public var codeDependencies: CodeDependencies { .engine }

    public init() {}

    /// The Llama-2 default of the artifact (the paper's OPT runs used 4).
    static let fixedAlpha = 5.0
    static let task = "winogrande"

    static func method(alpha: Double, ratio: Double) -> String {
        "infinigen:alpha=\(Int(alpha)),ratio=\(ratio),budget=0.2"
    }

    /// Sweep values; the ratio sweep's alpha-5/ratio-0.2 point is the alpha sweep's.
    static func sweeps(_ profile: RunProfile) -> (alphas: [Double], ratios: [Double]) {
        profile == .quick ? ([1, 9], [0.1]) : ((1...9).map(Double.init), (1...10).map { Double($0) / 10 })
    }

    public func configurations(profile: RunProfile) -> [Configuration] {
        let items = switch profile { case .quick: 2; case .default: FewShot5.defaultItems(Self.task); case .full: 0 }
        let (alphas, ratios) = Self.sweeps(profile)
        var methods = ["full"] + alphas.map { Self.method(alpha: $0, ratio: 0.2) }
        for r in ratios where !methods.contains(Self.method(alpha: Self.fixedAlpha, ratio: r)) {
            methods.append(Self.method(alpha: Self.fixedAlpha, ratio: r))
        }
        if profile == .quick { methods.removeFirst() }   // the quick run keeps to InfiniGen points
        let artifactItems = profile == .default ? FewShot5.artifactDefaultItems : items
        return methods.map { FewShot5.configuration(task: Self.task, method: $0, items: items) }
            + methods.map { FewShot5.configuration(task: Self.task, method: $0, items: artifactItems, protocol: .artifact) }
    }

    /// (alpha, ratio) of an InfiniGen method string; nil for "full".
    static func parameters(_ method: String) -> (alpha: Double, ratio: Double)? {
        guard method.hasPrefix("infinigen:") else { return nil }
        var alpha = Double.nan, ratio = Double.nan
        for kv in method.dropFirst("infinigen:".count).split(separator: ",") {
            let parts = kv.split(separator: "=")
            if parts[0] == "alpha" { alpha = Double(parts[1]) ?? .nan }
            if parts[0] == "ratio" { ratio = Double(parts[1]) ?? .nan }
        }
        return (alpha, ratio)
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        FewShot5.summarizePerProtocol(results, differences: [
            "SmolLM2-135M-Instruct instead of OPT-13B; accuracy only (the latency half of figure 17 is fig17-latency).",
            "Decode protocol: the cap is 20% of the sequence so far at every teacher-forced position. Artifact protocol: int(0.2 x prompt length) for every row, rows below it full (the paper: max_num_kv 409 = 20% of 2048).",
        ]) { p, rs in summarize(rs, protocol: p) }
    }

    private func summarize(_ results: [ExperimentResult], protocol p: AccuracyProtocol) -> (tables: [ReportTable], plots: [PlotSpec], text: String) {
        let points = results.map(FewShot5.Point.init)
        let suffix = p == .decode ? "" : ", \(p.label)"
        let full = points.first { $0.method == "full" }
        func panel(_ title: String, _ x: PlotAxis, _ pick: (Double, Double) -> Double?) -> PlotPanel {
            let ps = points.compactMap { p -> (Double, FewShot5.Point)? in
                guard let (a, r) = Self.parameters(p.method), let x = pick(a, r) else { return nil }
                return (x, p)
            }.sorted { $0.0 < $1.0 }
            var series = [PlotSeries(name: "InfiniGen acc", x: ps.map(\.0), y: ps.map { 100 * $0.1.value("acc") }),
                          PlotSeries(name: "KV bytes read vs full", x: ps.map(\.0), y: ps.map { 100 * $0.1.value("kv_bytes_relative") })]
            if let full, let lo = ps.first?.0, let hi = ps.last?.0 {
                series.append(PlotSeries(name: "full cache acc", x: [lo, hi], y: [100 * full.value("acc"), 100 * full.value("acc")]))
            }
            return PlotPanel(title: title, x: x, y: PlotAxis("acc / KV read", unit: "%", range: 0...100), kind: .linespoints,
                             series: series, key: .bottomRight)
        }
        let n = points.first?.items ?? 0
        let plot = PlotSpec(id: p == .decode ? id : "\(id)-\(p.rawValue)", title: "WinoGrande 5-shot (\(n) items), SmolLM2-135M\(suffix) (measured; paper: OPT-13B)", panels: [
            panel("vs alpha (ratio 0.2)", PlotAxis("alpha", unit: "logit")) { a, r in r == 0.2 ? a : nil },
            panel("vs partial ratio (alpha \(Int(Self.fixedAlpha)))", PlotAxis("partial weight ratio", unit: "1")) { a, r in
                a == Self.fixedAlpha ? r : nil },
        ], width: 1300, height: 550)
        let table = ReportTable(title: "WinoGrande accuracy with stderr and KV read relative to the full cache (SmolLM2-135M\(suffix))",
                                header: FewShot5.tableHeader, rows: points.map(FewShot5.tableRow))
        let defaultItems = p == .decode ? FewShot5.defaultItems(Self.task) : FewShot5.artifactDefaultItems
        return (tables: [table], plots: [plot],
            text: """
            Items: \(n) WinoGrande items (default profile: the first \(defaultItems); `--profile full` scores all of them). \
            Each point also states the KV bytes it read relative to the full cache; a larger alpha or ratio reads more (up to the 20% cap) and speculates better.

            \(Self.verdict(points))
            """)
    }

    /// The sweep ends compared item by item, plus whether |Δ loglik| falls along each sweep.
    static func verdict(_ points: [FewShot5.Point]) -> String {
        let claim = "Paper's claim: accuracy rises with alpha and with the partial weight ratio and then levels off "
            + "(the paper settles on alpha 4-5 and ratio 0.2), while the KV read grows."
        func sweep(_ name: String, _ pick: (Double, Double) -> Double?) -> String? {
            let ps = points.compactMap { p -> (Double, FewShot5.Point)? in
                guard let (a, r) = parameters(p.method), let x = pick(a, r) else { return nil }
                return (x, p)
            }.sorted { $0.0 < $1.0 }
            guard let lo = ps.first, let hi = ps.last, ps.count > 1 else { return nil }
            let (a, b) = (FewShot5.Pooled([lo.1]), FewShot5.Pooled([hi.1]))
            let d = b.difference(from: a)
            let deltas = ps.map { $0.1.value("mean_abs_loglik_delta") }
            let falls = zip(deltas, deltas.dropFirst()).filter { $1 < $0 }.count
            let x = { (v: Double) in NumberText.short(v) }
            var t = "\(name) \(x(lo.0)) -> \(x(hi.0)): acc \(NumberText.short(100 * a.accuracy))% -> \(NumberText.short(100 * b.accuracy))% "
                + "(\(FewShot5.points(d))), KV bytes read \(FewShot5.percent(lo.1.value("kv_bytes_relative"))) -> "
                + "\(FewShot5.percent(hi.1.value("kv_bytes_relative"))), mean |Δ loglik| \(NumberText.short(deltas.first!)) -> "
                + "\(NumberText.short(deltas.last!)) nats (falls in \(falls) of \(deltas.count - 1) steps); "
            if FewShot5.resolved(d) {
                t += d.value > 0 ? "the accuracy rise is resolved" : "accuracy falls, against the claim"
            } else {
                t += "the accuracy change is within two standard errors"
                    + (deltas.last! < deltas.first! ? ", but the log-likelihoods approach the full cache's as the claim implies"
                                                    : ", and the log-likelihoods do not approach the full cache's")
            }
            return t
        }
        let parts = [sweep("alpha", { a, r in r == 0.2 ? a : nil }),
                     sweep("ratio", { a, r in a == fixedAlpha ? r : nil })].compactMap { $0 }
        guard !parts.isEmpty else { return claim + " Not tested: the run has fewer than two points per sweep." }
        return claim + " Here (WinoGrande, \(points.first?.items ?? 0) items): " + parts.joined(separator: ". ") + "."
    }
}
