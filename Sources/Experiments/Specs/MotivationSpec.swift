import Evaluation
import Foundation
import Report

/// Section 3 of the paper: attention is sparse (few tokens carry most of a row's
/// attention) and consecutive layers' attention inputs are alike (so layer i's input can
/// rehearse layer i+1's attention). The paper shows these for OPT; exact figures were not
/// released, so there are no reference numbers.
public struct MotivationSpec: ExperimentSpec {
    public let id = "motivation"
    public let title = "Motivation: attention sparsity and similarity of consecutive layers' attention inputs"
    public let paperSetting = [
        Setting("model", "OPT-6.7B / OPT-13B"),
        Setting("data", "PG-19, WikiText-2"),
        Setting("sparsity measure", "tokens holding 90% of attention"),
        Setting("similarity measure", "cosine of consecutive layers' attention inputs"),
    ]
    public let ourSetting = [
        Setting("model", "SmolLM2-135M-Instruct (Q4_1)"),
        Setting("data", "Wikipedia sample (WikiText-2 stand-in), Pride and Prejudice (PG-19 stand-in)"),
        Setting("sparsity measure", "tokens holding 90% of attention"),
        Setting("similarity measure", "cosine of consecutive layers' attention inputs"),
    ]
    public var codeDependencies: CodeDependencies { .engine }

    public init() {}

    static let texts = ["wiki", "prideprejudice"]

    public func inputs() throws -> [InputFile] {
        try [EngineInputs.model()] + Self.texts.map(EngineInputs.text)
    }

    public func configurations(profile: RunProfile) -> [Configuration] {
        let tokens = switch profile { case .quick: 256; case .default: 2048; case .full: 4096 }
        let texts = profile == .quick ? ["wiki"] : Self.texts
        return texts.map { ["text": .string($0), "tokens": .int(tokens)] }
    }

    public func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord {
        let engine = try await Engine.shared(context)
        let tokens = try engine.tokens(try config.string("text"), count: try config.int("tokens"))
        let stats = try AttentionStatistics.collect(model: engine.model, tokens: tokens,
                                                    firstSample: min(64, tokens.count / 4), sampleEvery: 16)
        var r = ResultRecord()
        let layers = (0..<stats.sparsity.count).map(Double.init)
        r.addSeries("tokens_for_90pct_mass_fraction", stats.sparsity, x: layers, .measured, unit: "fraction of context")
        r.addSeries("tokens_for_90pct_mass", stats.tokensNeeded, x: layers, .measured, unit: "tokens")
        r.addSeries("consecutive_input_cosine", stats.consecutiveCosine, x: Array(layers.dropFirst()), .measured)
        r.add("mean_fraction_for_90pct_mass", stats.sparsity.reduce(0, +) / Double(stats.sparsity.count), .measured)
        r.add("mean_consecutive_cosine", stats.consecutiveCosine.dropFirst().reduce(0, +) / Double(stats.consecutiveCosine.count - 1), .measured)
        return r
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        var sparsity: [PlotSeries] = [], cosine: [PlotSeries] = []
        var rows: [[String]] = []
        for res in results {
            let text = (try? res.configuration.string("text")) ?? "?"
            let n = (try? res.configuration.int("tokens")) ?? 0
            if let s = res.record.series("tokens_for_90pct_mass_fraction") {
                sparsity.append(PlotSeries(name: "\(text) (\(n) tokens)", x: s.x ?? [], y: s.y.map { $0 * 100 }))
            }
            if let c = res.record.series("consecutive_input_cosine") {
                cosine.append(PlotSeries(name: "\(text) (\(n) tokens)", x: c.x ?? [], y: c.y))
            }
            rows.append([text, "\(n)",
                         NumberText.short(100 * (res.record.double("mean_fraction_for_90pct_mass") ?? .nan)) + "%",
                         NumberText.short(res.record.double("mean_consecutive_cosine") ?? .nan)])
        }
        let plot = PlotSpec(id: id, title: "Attention sparsity and input similarity, SmolLM2-135M (measured)", panels: [
            PlotPanel(title: "Tokens holding 90% of attention", x: PlotAxis("layer", unit: "index"),
                      y: PlotAxis("share of context", unit: "%"), kind: .linespoints, series: sparsity),
            PlotPanel(title: "Consecutive layers' attention inputs", x: PlotAxis("layer l", unit: "index"),
                      y: PlotAxis("cosine(input l-1, input l)", unit: "1"), kind: .linespoints, series: cosine,
                      key: .bottomRight),
        ])
        let table = ReportTable(title: "Means over layers (sparsity) and layers 2.. (cosine; layer 0->1 excluded)",
                                header: ["text", "tokens", "tokens for 90% of attention", "consecutive-input cosine"], rows: rows)
        return ExperimentOutput(
            tables: [table], plots: [plot],
            differences: ["Llama-style model with RMSNorm and grouped-query attention instead of OPT; rows are sampled every 16th position from position 64 (all query heads)."],
            text: Self.verdict(results))
    }

    /// The premise tested against stated criteria: sparse enough that a 20% budget can hold
    /// 90% of the attention in every layer on average, and consecutive inputs with cosine >= 0.9.
    static func verdict(_ results: [ExperimentResult]) -> String {
        var s = "Paper's premise (section 3): a small share of the tokens carries most of the attention, and the attention inputs "
            + "of consecutive layers are so similar that layer i's input can speculate layer i+1's attention. "
            + "Criteria used here: 90% of the attention within a 20% budget (InfiniGen's) on average over layers, and mean cosine >= 0.9.\n"
        for res in results {
            let text = (try? res.configuration.string("text")) ?? "?"
            guard let sparsity = res.record.series("tokens_for_90pct_mass_fraction"),
                  let cosine = res.record.series("consecutive_input_cosine"),
                  let meanShare = res.record.double("mean_fraction_for_90pct_mass"),
                  let meanCosine = res.record.double("mean_consecutive_cosine") else { continue }
            let densest = sparsity.y.indices.max { sparsity.y[$0] < sparsity.y[$1] }
            let pairs = Array(zip(cosine.x ?? [], cosine.y).dropFirst())    // layer 0 -> 1 excluded, as in the mean
            let least = pairs.min { $0.1 < $1.1 }
            let sparse = meanShare <= 0.2, similar = meanCosine >= 0.9
            s += "\n- \(AccuracyTexts.short(text)): \(NumberText.short(100 * meanShare))% of the context holds 90% of the attention on average"
            if let d = densest { s += " (least sparse: layer \(d), \(NumberText.short(100 * sparsity.y[d]))%)" }
            s += "; consecutive-input cosine \(NumberText.short(meanCosine))"
            if let l = least { s += " (lowest \(NumberText.short(l.1)) into layer \(Int(l.0)))" }
            s += ". " + (sparse && similar ? "The premise holds."
                         : sparse ? "Sparsity holds; the similarity criterion does not."
                         : similar ? "Similarity holds; the sparsity criterion does not." : "Neither criterion holds.")
        }
        return s
    }
}
