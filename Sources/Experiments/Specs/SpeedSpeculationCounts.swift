import Evaluation
import Foundation
import Policies
import Report
import Trace

/// How many tokens InfiniGen's threshold (row max - alpha) selects, measured on the real
/// model. No first-principles model of that count exists, so figure 17's alpha sweep
/// takes it from here: the fraction of the context selected per managed layer, as a
/// function of alpha.
enum SpeculationCounts {
    /// Which text, how long, and where the policy takes over (positions before it read the
    /// whole cache, like a prompt; the fraction is measured on the positions after it, so
    /// on contexts of `policyStart` to `tokens - 1` tokens).
    struct Setting: Sendable, Equatable {
        var text: String
        var tokens: Int
        var policyStart: Int
        var alphas: [Int]

        var key: String { "\(text)/\(tokens)/from-\(policyStart)" }
    }

    static func setting(_ profile: RunProfile) -> Setting {
        switch profile {
        case .quick: return Setting(text: "wiki", tokens: 512, policyStart: 256, alphas: [2, 4, 8])
        case .default: return Setting(text: "wiki", tokens: 1024, policyStart: 512, alphas: Array(1...9))
        case .full: return Setting(text: "wiki", tokens: 2048, policyStart: 1024, alphas: Array(1...9))
        }
    }

    /// Leading layers that read the whole cache (the artifact's layers 0 and 1; the
    /// simulator's `denseLeadingLayers`). The engine reports layer spare-1 as managed
    /// because it feeds the speculation, but it reads everything: only layers from
    /// `spare` on select.
    static let spare = 2

    /// Uncapped (budget 0, no max-kv): the raw threshold count is what is measured; the
    /// simulator applies max_num_kv itself.
    static func policy(alpha: Int) -> String { "infinigen:alpha=\(alpha),budget=0,spare=\(spare)" }

    /// Whether the registry knows the policy (it is implemented in parallel elsewhere).
    static var policyAvailable: Bool { (try? PolicyRegistry.parse(policy(alpha: 4))) != nil }

    struct Measurement: Sendable {
        var alpha: Int
        /// Mean over the selecting layers (>= spare) of rows read / rows available.
        var meanFraction: Double
        /// The selecting layers (>= spare) and their rows read / rows available.
        var layers: [Int]
        var layerFractions: [Double]
        var meanRowsRead: Double
        var recall: Double
        var mass: Double
        var meanKL: Double
        var top1: Double
        var perplexity: Double
        var perplexityFull: Double
    }

    /// Measured once per invocation and shared: speculation-counts and fig17-latency ask
    /// for the same points.
    static func measure(alpha: Int, setting: Setting, context: RunContext) async throws -> Measurement {
        try await context.resources.value("speculation-counts/\(setting.key)/alpha=\(alpha)", as: Measurement.self) {
            let engine = try await Engine.shared(context)
            let tokens = try engine.tokens(setting.text, count: setting.tokens)
            let reference = try await context.resources.value("reference/\(setting.text)/\(setting.tokens)",
                                                              as: PolicyComparison.Reference.self) {
                try PolicyComparison.Reference(model: engine.model, tokens: tokens)
            }
            let method = try PolicyRegistry.make(policy(alpha: alpha), model: engine.model, context: engine.methodContext)
            let recorder = try PolicyComparison.run(model: engine.model, reference: reference, policy: method.makePolicy(),
                                                    policyStart: setting.policyStart)
            let s = recorder.summary()
            let managed = s.layers.filter { $0.managed && $0.layer >= spare }
            guard !managed.isEmpty else {
                throw ExperimentError("\(policy(alpha: alpha)): no selecting layer in the trace")
            }
            func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
            return Measurement(alpha: alpha, meanFraction: mean(managed.map(\.readFraction)),
                               layers: managed.map(\.layer), layerFractions: managed.map(\.readFraction),
                               meanRowsRead: mean(managed.map(\.rowsRead)), recall: s.recall, mass: s.mass,
                               meanKL: s.meanKL, top1: s.top1Agreement, perplexity: s.perplexity,
                               perplexityFull: s.perplexityFull)
        }
    }

    static func inputs(_ setting: Setting) throws -> [InputFile] {
        try [EngineInputs.model(), EngineInputs.text(setting.text), EngineInputs.text(Corpus.calibrationText)]
    }
}

/// The measured alpha -> fraction table that figure 17's latency sweep rests on. Runs the
/// real SmolLM2 engine under the `infinigen` policy; every number here is measured.
public struct SpeedSpeculationCountsSpec: ExperimentSpec {
    public let id = "speculation-counts"
    public let title = "Tokens InfiniGen's speculation selects vs alpha (measured on SmolLM2; input to figure 17)"
    public let paperSetting = [
        Setting("model", "OPT-13B"),
        Setting("selection", "tokens with speculated logit > row max - alpha, one mean count per layer and step"),
        Setting("alpha", "1 to 9 (4 by default for OPT)"),
        Setting("context", "1920-token prompt + 128 generated tokens"),
    ]
    public let ourSetting = [
        Setting("model", "SmolLM2-135M-Instruct (Q4_1), skewing calibrated on Emma"),
        Setting("selection", "the `infinigen` policy, mean count (artifact speedup path), no budget or max-kv cap"),
        Setting("alpha", "1 to 9 (quick profile: 2, 4, 8)"),
        Setting("context", "Wikipedia sample: 1024 tokens, the second half policy-managed (quick: 512, full: 2048)"),
    ]
    /// The engine and this file; not the offload simulator nor the files that use it.
    public var codeDependencies: CodeDependencies {
        CodeDependencies(modules: .only(["Evaluation", "Policies", "Model", "Report"]),
                         specFiles: .allExcept(["OffloadRun", "SpeedFig14", "SpeedFig15", "SpeedFig16", "SpeedSupport", "SpeedWhatIf"]))
    }

    public init() {}

    public func inputs() throws -> [InputFile] {
        // The text is the same in every profile; the inputs must not depend on it.
        try SpeculationCounts.inputs(SpeculationCounts.setting(.default))
    }

    public func configurations(profile: RunProfile) -> [Configuration] {
        let s = SpeculationCounts.setting(profile)
        return s.alphas.map {
            ["alpha": .int($0), "text": .string(s.text), "tokens": .int(s.tokens), "policy_start": .int(s.policyStart),
             "policy": .string(SpeculationCounts.policy(alpha: $0))]
        }
    }

    public func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord {
        let setting = SpeculationCounts.Setting(text: try config.string("text"), tokens: try config.int("tokens"),
                                                policyStart: try config.int("policy_start"), alphas: [])
        let m = try await SpeculationCounts.measure(alpha: try config.int("alpha"), setting: setting, context: context)
        var r = ResultRecord()
        r.add("fraction_selected", m.meanFraction, .measured, unit: "fraction of context")
        r.add("rows_read", m.meanRowsRead, .measured, unit: "tokens per KV head")
        r.add("recall", m.recall, .measured)
        r.add("attention_mass", m.mass, .measured)
        r.add("kl_vs_full", m.meanKL, .measured, unit: "nats/token")
        r.add("top1_agreement", m.top1, .measured)
        r.add("perplexity", m.perplexity, .measured)
        r.add("perplexity_full", m.perplexityFull, .measured)
        // Selecting layers only: the spared leading layers read everything by definition.
        r.addSeries("layer_fraction_selected", m.layerFractions, x: m.layers.map(Double.init),
                    .measured, unit: "fraction of context")
        return r
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        var alphas: [Double] = [], fractions: [Double] = [], masses: [Double] = []
        var layerSeries: [PlotSeries] = []
        var rows: [[String]] = []
        // Per-layer curves for the smallest, middle and largest alpha only (readability).
        let shownLayers = Set([0, results.count / 2, results.count - 1])
        for (i, res) in results.enumerated() {
            let alpha = try res.configuration.int("alpha")
            let f = res.record.double("fraction_selected") ?? .nan
            alphas.append(Double(alpha))
            fractions.append(100 * f)
            masses.append(100 * (res.record.double("attention_mass") ?? .nan))
            if let s = res.record.series("layer_fraction_selected"), shownLayers.contains(i) {
                layerSeries.append(PlotSeries(name: "alpha \(alpha)", x: s.x ?? [], y: s.y.map { 100 * $0 }))
            }
            rows.append(["\(alpha)", String(format: "%.2f%%", 100 * f),
                         NumberText.short(res.record.double("rows_read") ?? .nan),
                         NumberText.short(res.record.double("recall") ?? .nan),
                         NumberText.short(res.record.double("attention_mass") ?? .nan),
                         NumberText.short(res.record.double("kl_vs_full") ?? .nan),
                         NumberText.short(res.record.double("perplexity") ?? .nan)])
        }
        let tokens = (try? results.first?.configuration.int("tokens")) ?? 0
        let start = (try? results.first?.configuration.int("policy_start")) ?? 0
        var panels = [PlotPanel(title: "Mean over the selecting layers (\(SpeculationCounts.spare) and up)",
                                x: PlotAxis("alpha", unit: "logit units"), y: PlotAxis("share", unit: "%"), kind: .linespoints,
                                series: [PlotSeries(name: "tokens selected, share of the context", x: alphas, y: fractions),
                                         PlotSeries(name: "full-attention mass on them", x: alphas, y: masses)],
                                key: .topLeft)]
        if !layerSeries.isEmpty {
            panels.append(PlotPanel(title: "Per layer", x: PlotAxis("layer", unit: "index"),
                                    y: PlotAxis("tokens selected / context", unit: "%"), kind: .linespoints,
                                    series: layerSeries, key: .topRight))
        }
        let plot = PlotSpec(id: id, title: "InfiniGen speculation, SmolLM2-135M, wiki, contexts \(start)-\(tokens - 1) tokens (measured)",
                            panels: panels, width: 1300, height: 550)
        let table = ReportTable(title: "Selected share of the context per alpha (mean over the selecting layers; measured)",
                                header: ["alpha", "selected", "rows per KV head", "recall", "attention mass",
                                         "KL vs full (nats)", "perplexity"], rows: rows)
        return ExperimentOutput(
            tables: [table], plots: [plot],
            differences: [
                "SmolLM2-135M (30 layers, grouped-query attention, rotary) instead of OPT-13B; the fractions are applied to OPT-13B's context in figure 17.",
                "Contexts of \(start)-\(tokens - 1) tokens instead of 1920-2047: the selected share at the paper's length may differ.",
            ],
            text: "Figure 17's alpha sweep uses these measured fractions as the speculated count (k = fraction x context, capped at max_num_kv by the simulator): counts measured on SmolLM2, applied to OPT-13B's context.")
    }
}
