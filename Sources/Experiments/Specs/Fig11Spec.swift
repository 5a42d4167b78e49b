import Evaluation
import Foundation
import Report

/// Figure 11: 5-shot accuracy against the share of the KV cache each step reads, for the
/// full cache, H2O, low-bit quantization and InfiniGen (plus Quest, StreamingLLM and the
/// exact top-k oracle at 20%). The x value is measured: KV bytes the method read over the
/// scored sequences relative to reading every row at fp16 (spared layers included).
public struct Fig11Spec: FewShotExperiment {
    public let id = "fig11"
    public let title = "Few-shot accuracy vs relative KV cache size (H2O, quantization, InfiniGen)"
    public let paperSetting = [
        Setting("models", "OPT-6.7B/13B/30B, Llama-2-7B/13B (two tasks each)"),
        Setting("tasks", "PIQA, OpenBookQA, WinoGrande, COPA, RTE; 5-shot, lm-eval 0.3.0"),
        Setting("H2O", "heavy = recent, total 50/25/12.5/6.25% of the sequence"),
        Setting("quantization", "8/4/2/1-bit asymmetric, group 64, layers >= 2"),
        Setting("InfiniGen", "4 (alpha, budget) points per model/task, e.g. (2,.2) (4,.2) (5,.4) (7,.6); x = retain ratio"),
    ]
    public let ourSetting = [
        Setting("models", FewShot5.modelNote),
        Setting("tasks", "PIQA, OpenBookQA, WinoGrande (OLMES rc 5-shot requests), COPA, RTE (5-shot from validation)"),
        Setting("H2O", "heavy = recent, total 50/25/12.5/6.25% of the sequence so far"),
        Setting("quantization", "8/4/2/1-bit asymmetric min-max, group 64, fp16 scale+min, layers >= 2"),
        Setting("InfiniGen", "points " + Fig11Spec.infinigenPoints.map { "(\(Int($0.alpha)),\($0.budget))" }.joined(separator: " ")
                + ", ratio 0.2, calibrated on a novel"),
        Setting("extra", "Quest, StreamingLLM, oracle top-k at 20%"),
        Setting("x axis", "measured KV bytes read / fp16 full-cache bytes over every scored position and layer"),
    ]
    public var codeDependencies: CodeDependencies { .engine }

    public init() {}

    /// InfiniGen (alpha, budget) points: the paper picked, per model, points spanning the
    /// range of KV sizes of its H2O points. For SmolLM2 a sweep on the first 3 WinoGrande
    /// items read 13/17/20/23% (alpha 1-4, budget .2), 35% (5, .4), 53% (7, .6), 76% (9, 1)
    /// of the fp16 KV bytes, against 12-53% for the four H2O points: the paper's own points
    /// (2,.2) (4,.2) (5,.4) (7,.6) cover that range, so they are kept.
    static let infinigenPoints: [(alpha: Double, budget: Double)] = [(2, 0.2), (4, 0.2), (5, 0.4), (7, 0.6)]

    static func h2o(_ total: Double) -> String { "h2o:heavy=\(total / 2),recent=\(total / 2)" }
    static func quant(_ bits: Int) -> String { "quant:bits=\(bits)" }
    static func infinigen(_ alpha: Double, _ budget: Double) -> String { "infinigen:alpha=\(Int(alpha)),budget=\(budget)" }

    /// InfiniGen's selection rule with exact speculation scores (all columns): separates
    /// what the partial columns lose from what the threshold-and-cap rule loses.
    static let exactScoresMethod = "infinigen:alpha=4,budget=0.2,ratio=1"

    static var allMethods: [String] {
        ["full"] + [0.5, 0.25, 0.125, 0.0625].map(h2o) + [8, 4, 2, 1].map(quant)
            + infinigenPoints.map { infinigen($0.alpha, $0.budget) }
            + ["quest:budget=0.2", "streaming:budget=0.2", "oracle:budget=0.2", exactScoresMethod]
    }

    /// The methods run under the artifact's protocol as well (its mask simulation covers
    /// the full cache, H2O, quantization, InfiniGen and the oracle; Quest and StreamingLLM
    /// are decode-only): every InfiniGen point and the H2O and quantization points that
    /// bracket their KV sizes.
    static var artifactMethods: [String] {
        ["full"] + [0.25, 0.125, 0.0625].map(h2o) + [4, 2].map(quant)
            + infinigenPoints.map { infinigen($0.alpha, $0.budget) } + ["oracle:budget=0.2"]
    }

    public func configurations(profile: RunProfile) -> [Configuration] {
        switch profile {
        case .quick:
            return ["full", Self.h2o(0.25), Self.quant(2), Self.infinigen(4, 0.2)].map {
                FewShot5.configuration(task: "copa", method: $0, items: 2)
            } + ["full", Self.infinigen(4, 0.2)].map { FewShot5.configuration(task: "copa", method: $0, items: 2, protocol: .artifact) }
        case .default, .full:
            return FewShot5.allTasks(Self.allMethods, profile: profile)
                + FewShot5.allTasks(Self.artifactMethods, profile: profile, protocol: .artifact)
        }
    }

    static func family(_ method: String) -> String {
        if method == exactScoresMethod { return "InfiniGen ratio 1 (diagnostic)" }
        return switch method.split(separator: ":").first.map(String.init) ?? method {
        case "full": "full cache"
        case "h2o": "H2O"
        case "quant": "quantization"
        case "infinigen": "InfiniGen"
        case "quest": "Quest 20%"
        case "streaming": "StreamingLLM 20%"
        case "oracle": "oracle top-k 20%"
        default: method
        }
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        try FewShot5.summarizePerProtocol(results, differences: [
            "SmolLM2-135M-Instruct instead of OPT/Llama-2 (a 135M model is near chance on several of these tasks, so differences between methods are small against the stderr).",
            "x axis is measured: KV bytes read per step over every scored position relative to fp16 full reads (layers 0-1 always read in full, quantized rows cost bits/16 plus fp16 scale and min per group of 64). Decode protocol: the rows each position read; artifact protocol: the masks' selected share of the causal triangle. The retain ratio 1 - sqrt(1 - density) that the artifact plots for InfiniGen is in the artifact protocol's table.",
            "Decode protocol: H2O budgets are fractions of the sequence so far (teacher-forced, every position policy-managed), not of the whole input. Artifact protocol: fractions of the whole prompt, as the artifact's masks.",
            "Artifact protocol: each choice's prompt is one masked pass (as the artifact scores its requests), with context and continuation tokenized apart (the artifact tokenizes the joined string).",
        ]) { p, rs in try summarize(rs, protocol: p) }
    }

    private func summarize(_ results: [ExperimentResult], protocol p: AccuracyProtocol) throws -> (tables: [ReportTable], plots: [PlotSpec], text: String) {
        let points = results.map(FewShot5.Point.init)
        let suffix = p == .decode ? "" : ", \(p.label)"
        let tasks = Tasks.names.filter { t in points.contains { $0.task == t } }
        let families = ["full cache", "H2O", "quantization", "InfiniGen", "Quest 20%", "StreamingLLM 20%", "oracle top-k 20%",
                        "InfiniGen ratio 1 (diagnostic)"]
        let panels = tasks.map { task -> PlotPanel in
            let metric = FewShot5.headline(task)
            let series = families.compactMap { family -> PlotSeries? in
                let ps = points.filter { $0.task == task && Self.family($0.method) == family }
                    .sorted { $0.value("kv_bytes_relative") < $1.value("kv_bytes_relative") }
                guard !ps.isEmpty else { return nil }
                return PlotSeries(name: family, x: ps.map { 100 * $0.value("kv_bytes_relative") },
                                  y: ps.map { 100 * $0.value(metric) })
            }
            let n = points.first { $0.task == task }?.items ?? 0
            return PlotPanel(title: "\(task) (\(n) items, \(metric))", x: PlotAxis("KV bytes read vs full", unit: "%", range: 0...105),
                             y: PlotAxis(metric, unit: "%", range: 0...100), kind: .linespoints, series: series, key: .below)
        }
        var plots: [PlotSpec] = []
        let title = "5-shot accuracy vs KV read, SmolLM2-135M\(suffix) (measured; paper: OPT/Llama-2)"
        let plotID = p == .decode ? id : "\(id)-\(p.rawValue)"
        if !panels.isEmpty { plots.append(PlotSpec(id: plotID, title: title, panels: Array(panels.prefix(3)), width: 1500, height: 720)) }
        if panels.count > 3 { plots.append(PlotSpec(id: plotID + "-b", title: title + " (continued)", panels: Array(panels.dropFirst(3)), width: 1000, height: 720)) }
        let table = ReportTable(title: "Accuracy with stderr and KV read relative to the full cache (SmolLM2-135M\(suffix))",
                                header: FewShot5.tableHeader, rows: points.map(FewShot5.tableRow))
        let byMethod = Dictionary(grouping: points, by: \.method)
        let pooled = Self.allMethods.compactMap { m in byMethod[m].map { (label: m, pooled: FewShot5.Pooled($0)) } }
        let full = pooled.first { $0.label == "full" }?.pooled
        let pooledTable = FewShot5.pooledTable(pooled, full: full, title: "Pooled over the tasks\(suffix): acc, paired difference from the full cache on the same items")
        let scoring = p == .decode
            ? "Every position of every choice is scored teacher-forced with the method managing layers 2-29 (the default profile scores \(FewShot5.defaultItemsText); `--profile full` scores the complete sets). "
            : "Every choice's whole prompt is one masked forward pass with the method's masks in layers 2-29, its budget from that prompt's length (the default profile scores the first \(FewShot5.artifactDefaultItems) items of each task under this protocol; `--profile full` scores the complete sets). "
        return (tables: [pooledTable, table], plots: plots,
            text: """
            Items per task: \(FewShot5.itemsText(results)). \
            \(scoring)\
            InfiniGen points were chosen as the paper did, to span the range of KV sizes of the H2O points: a sweep of alpha 1..9 on 3 WinoGrande items read 13-76% of the KV bytes, and the paper's points (2,.2) (4,.2) (5,.4) (7,.6) read 17-53%, matching H2O's 12-53%, so they are kept; their retain ratio (the artifact's x value) is reported beside the measured bytes. \
            PIQA and OpenBookQA are plotted with acc_norm (as lm-eval reports them), the others with acc.

            \(Self.verdict(pooled))
            """)
    }

    /// The paper's claim tested at matched cost: every InfiniGen point against the H2O and
    /// quantization points that read the most similar share of KV bytes, pooled over tasks.
    /// With ~100 items accuracy rarely separates methods, so the mean |Δ loglik| against the
    /// full cache (same items, same choices) is reported as the finer measure.
    static func verdict(_ pooled: [(label: String, pooled: FewShot5.Pooled)]) -> String {
        typealias Row = (label: String, pooled: FewShot5.Pooled)
        let claim = "Paper's claim: at the same KV cache size InfiniGen stays near full-cache accuracy while H2O and low-bit quantization lose accuracy."
        let ig = pooled.filter { $0.label.hasPrefix("infinigen") && $0.label != exactScoresMethod }.sorted { $0.pooled.relativeBytes < $1.pooled.relativeBytes }
        guard let full = pooled.first(where: { $0.label == "full" })?.pooled, !ig.isEmpty
        else { return claim + " Not tested: the run has no full-cache or InfiniGen points." }
        func nearest(_ prefix: String, to p: Row) -> Row? {
            pooled.filter { $0.label.hasPrefix(prefix) }
                .min { abs($0.pooled.relativeBytes - p.pooled.relativeBytes) < abs($1.pooled.relativeBytes - p.pooled.relativeBytes) }
        }
        func describe(_ r: Row) -> String {
            "`\(r.label)` \(FewShot5.percent(r.pooled.relativeBytes)) of the bytes: \(FewShot5.points(r.pooled.difference(from: full))), "
                + "agrees on \(FewShot5.percent(r.pooled.agreement)), |Δ loglik| \(NumberText.short(r.pooled.meanDelta))"
        }
        var s = claim + " Pooled over \(full.items) items (full cache: acc \(NumberText.short(100 * full.accuracy))%); "
            + "each InfiniGen point against the H2O and quantization points nearest in KV bytes "
            + "(accuracy vs full on the same items, agreement with the full cache's predictions, mean |Δ loglik| in nats):\n\n"
        var closer = ["H2O": 0, "quantization": 0], compared = ["H2O": 0, "quantization": 0]
        var resolvedDrops: [String] = []
        for p in ig {
            var line = "- " + describe(p)
            for (family, prefix) in [("H2O", "h2o"), ("quantization", "quant")] {
                guard let r = nearest(prefix, to: p) else { continue }
                line += "; " + describe(r)
                compared[family]! += 1
                if p.pooled.meanDelta < r.pooled.meanDelta { closer[family]! += 1 }
            }
            s += line + "\n"
        }
        for r in pooled where r.label != "full" {
            let d = r.pooled.difference(from: full)
            if FewShot5.resolved(d) && d.value < 0 { resolvedDrops.append("`\(r.label)` \(FewShot5.points(d))") }
        }
        s += "\nAccuracy drops larger than two standard errors: " + (resolvedDrops.isEmpty ? "none" : resolvedDrops.joined(separator: ", ")) + ". "
        let n = ig.count
        s += "On |Δ loglik| InfiniGen is closer to the full cache than the nearest H2O point at \(closer["H2O"]!) of \(compared["H2O"]!) "
            + "points and than the nearest quantization point at \(closer["quantization"]!) of \(compared["quantization"]!). "
        let igDropResolved = ig.contains { p in let d = p.pooled.difference(from: full); return FewShot5.resolved(d) && d.value < 0 }
        if closer["H2O"]! == n && closer["quantization"]! == n && !igDropResolved {
            s += "The claim holds here."
        } else if closer["H2O"]! == 0 || closer["quantization"]! == 0 {
            let loser = closer["H2O"]! == 0 ? "H2O" : "quantization"
            s += "The claim does not hold here: at every InfiniGen point, \(loser) at similar bytes stays closer to the full cache."
        } else {
            s += "The claim holds only in part."
        }
        if let exact = pooled.first(where: { $0.label == exactScoresMethod }), let h = nearest("h2o", to: exact) {
            let better = exact.pooled.meanDelta < h.pooled.meanDelta
            s += " Diagnostic: the same selection rule with exact speculation scores (" + describe(exact) + ") is "
                + (better ? "closer to the full cache than" : "still not closer to the full cache than") + " the nearest H2O point ("
                + describe(h) + ")"
                + (better ? ", so on this model the loss comes from the partial query/key columns' speculation (policy-quality and "
                            + "speculation-quality show why: skewing concentrates little query energy in 20% of the columns of this GQA model)."
                          : ", so the loss is not only the partial columns' speculation: the threshold-and-cap selection itself trails H2O here.")
        }
        return s
    }
}
