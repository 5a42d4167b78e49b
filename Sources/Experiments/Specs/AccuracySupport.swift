import Evaluation
import Foundation
import Model
import Policies
import Report
import Trace

/// The texts of the accuracy experiments and how the report names them.
enum AccuracyTexts {
    static let wiki = "wiki"
    static let novel = "prideprejudice"

    static func display(_ text: String) -> String {
        switch text {
        case wiki: return "Wikipedia sample (WikiText-2 stand-in)"
        case novel: return "Pride and Prejudice (PG-19 stand-in)"
        default: return text
        }
    }

    /// Short form for table headers and legends.
    static func short(_ text: String) -> String {
        switch text {
        case wiki: return "Wikipedia (WikiText-2 stand-in)"
        case novel: return "Pride and Prejudice (PG-19 stand-in)"
        default: return text
        }
    }

    static let model = "SmolLM2-135M-Instruct (Q4_1)"
    static let data = "Wikipedia sample (WikiText-2 stand-in), Jane Austen novels (PG-19 stand-in)"
}

/// What one policy did on one window, kept small enough to share across experiments:
/// the trace summary and the per-position negative log-likelihoods, not the raw records.
struct ComparisonOutcome: Sendable {
    /// Canonical policy spec.
    var policy: String
    var summary: TraceSummary
    /// Positions of the token records (each predicts the token after it), ascending.
    var positions: [Int]
    var nll: [Double]
    var nllFull: [Double]
    /// Wall time of the policy run (the shared full-cache reference excluded).
    var seconds: Double
    /// InfiniGen only: share of (selecting layer, position) steps where the speculated
    /// count exceeded the budget cap, and the mean speculated count as a share of the
    /// earlier positions (before the cap).
    var infinigenCapBound: Double?
    var infinigenThresholdShare: Double?
    /// The tail over every selecting (layer, position, KV head) row: 10th percentiles of
    /// the attention mass read and of the output cosine, and the share of rows whose
    /// reads hold less than half of the full attention mass. Means hide whether a
    /// method loses a little everywhere or a lot in a few rows.
    var massP10 = Double.nan
    var cosineP10 = Double.nan
    var lowMassShare = Double.nan
    /// What the method keeps on the device per cached token besides the rows it reads
    /// (InfiniGen's partial key cache, Quest's page bounds), all layers: not link bytes.
    var deviceBytesPerToken = 0.0

    /// The selecting layers' records (the spared ones read everything by definition).
    var selectingLayers: [TraceSummary.Layer] { summary.layers.filter(\.managed) }
}

/// Runs policies against the full cache on the real model, sharing what can be shared
/// within one invocation: one full-cache reference per (text, length), one run per
/// (text, length, canonical policy) — so figure 12's full and InfiniGen curves, table 2's
/// 100% pool and the policy-quality table reuse a single run.
enum AccuracyRuns {
    /// The first `tokens` tokens of `text` scored under the full cache (the same resource
    /// key as speculation-counts, so the two share it).
    static func reference(text: String, tokens: Int, context: RunContext) async throws -> PolicyComparison.Reference {
        let engine = try await Engine.shared(context)
        let ids = try engine.tokens(text, count: tokens)
        return try await context.resources.value("reference/\(text)/\(tokens)", as: PolicyComparison.Reference.self) {
            try PolicyComparison.Reference(model: engine.model, tokens: ids)
        }
    }

    /// `policy` teacher-forced over the window, every position policy-managed (the
    /// accuracy studies' setting), compared with the full cache.
    static func compare(_ config: Configuration, context: RunContext) async throws -> ComparisonOutcome {
        try await compare(policy: try config.string("policy"), text: try config.string("text"),
                          tokens: try config.int("tokens"), context: context)
    }

    static func compare(policy spec: String, text: String, tokens: Int, context: RunContext) async throws -> ComparisonOutcome {
        let canonical = try PolicyRegistry.canonical(spec)
        return try await context.resources.value("comparison/\(text)/\(tokens)/\(canonical)", as: ComparisonOutcome.self) {
            let engine = try await Engine.shared(context)
            let reference = try await reference(text: text, tokens: tokens, context: context)
            let method = try PolicyRegistry.make(spec, model: engine.model, context: engine.methodContext)
            let policy = method.makePolicy()
            let start = Date()
            let recorder = try PolicyComparison.run(model: engine.model, reference: reference, policy: policy)
            let seconds = Date().timeIntervalSince(start)
            let records = recorder.tokenRecords
            var outcome = ComparisonOutcome(policy: canonical, summary: recorder.summary(),
                                            positions: records.map(\.position), nll: records.map(\.nll),
                                            nllFull: records.map(\.nllFull), seconds: seconds)
            outcome.deviceBytesPerToken = policy.deviceBytesPerToken
            let managed = recorder.attentionRecords.filter(\.managed)
            if !managed.isEmpty {
                outcome.massP10 = percentile(managed.map(\.mass), 0.1)
                outcome.cosineP10 = percentile(managed.map(\.cosine), 0.1)
                outcome.lowMassShare = Double(managed.filter { $0.mass < 0.5 }.count) / Double(managed.count)
            }
            if let ig = policy as? InfiniGenPolicy, let settings = (method as? InfiniGenMethod)?.settings {
                (outcome.infinigenCapBound, outcome.infinigenThresholdShare) = capStatistics(ig.allSteps, settings: settings)
            }
            context.log("\(context.experimentID): \(canonical) on \(text)/\(tokens) in \(String(format: "%.1f", seconds)) s")
            return outcome
        }
    }

    /// Attention records only (no logits, no reference): what `policy` read per layer and
    /// how close each row's output came to full attention.
    static func probe(policy spec: String, text: String, tokens: Int, context: RunContext) async throws -> (TraceSummary, Double) {
        let canonical = try PolicyRegistry.canonical(spec)
        struct Probed: Sendable { var summary: TraceSummary; var seconds: Double }
        let p = try await context.resources.value("probe/\(text)/\(tokens)/\(canonical)", as: Probed.self) {
            let engine = try await Engine.shared(context)
            let ids = try engine.tokens(text, count: tokens)
            let policy = try PolicyRegistry.make(spec, model: engine.model, context: engine.methodContext).makePolicy()
            let start = Date()
            let recorder = TraceRecorder()
            let probe = AttentionProbe(config: engine.model.config, transfer: policy.transfer, recorder: recorder,
                                       capacity: ids.count)
            let seq = engine.model.newSequence(policy: policy, policyStart: 0, capacity: ids.count, probe: probe)
            try engine.model.forward([(seq, ids)], logits: .none)
            let seconds = Date().timeIntervalSince(start)
            context.log("\(context.experimentID): probed \(canonical) on \(text)/\(tokens) in \(String(format: "%.1f", seconds)) s")
            return Probed(summary: recorder.summary(), seconds: seconds)
        }
        return (p.summary, p.seconds)
    }

    /// The value below which `q` of the values lie (nearest rank).
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// (share of steps whose speculated count exceeded the cap, mean speculated count as a
    /// share of the earlier positions), over every selecting layer and position > 0.
    static func capStatistics(_ steps: [InfiniGenStepStats], settings: InfiniGenSettings) -> (Double, Double) {
        var bound = 0, n = 0
        var share = 0.0
        for step in steps where step.position > 0 {
            let t = step.position
            let cap = settings.cap(at: t)
            for l in step.layers {
                n += 1
                if Int(l.thresholdCount) > cap { bound += 1 }
                share += l.thresholdCount / Double(t)
            }
        }
        return n == 0 ? (.nan, .nan) : (Double(bound) / Double(n), share / Double(n))
    }

    static func inputs(texts: [String], calibration: Bool) throws -> [InputFile] {
        try [EngineInputs.model()] + texts.map(EngineInputs.text)
            + (calibration ? [EngineInputs.text(Corpus.calibrationText)] : [])
    }
}

/// Writing outcomes into records, and reading them back.
enum AccuracyRecord {
    /// The summary numbers every policy run reports, all measured.
    static func addSummary(_ o: ComparisonOutcome, to r: inout ResultRecord) {
        let s = o.summary
        addPerplexity(o, to: &r)
        r.add("top1_agreement", s.top1Agreement, .measured)
        r.add("recall", s.recall, .measured)
        r.add("attention_mass", s.mass, .measured)
        r.add("output_cosine", s.cosine, .measured)
        r.add("read_fraction", s.readFraction, .measured)
        let selecting = o.selectingLayers
        r.add("read_fraction_selecting", selecting.isEmpty ? 1 : mean(selecting.map(\.readFraction)), .measured)
        r.add("link_kb_per_token", s.linkBytesPerToken / 1e3, .measured, unit: "KB")
        r.add("attention_mass_p10", o.massP10, .measured)
        r.add("output_cosine_p10", o.cosineP10, .measured)
        r.add("low_mass_share", o.lowMassShare, .measured)
        if let b = o.infinigenCapBound { r.add("infinigen_cap_bound", b, .measured) }
        if let t = o.infinigenThresholdShare { r.add("infinigen_threshold_share", t, .measured) }
        r.add("seconds", o.seconds, .measured, unit: "s")
    }

    /// Perplexity under the policy and under the full cache, and the KL between them.
    static func addPerplexity(_ o: ComparisonOutcome, to r: inout ResultRecord) {
        r.add("perplexity", o.summary.perplexity, .measured)
        r.add("perplexity_full", o.summary.perplexityFull, .measured)
        r.add("kl_vs_full", o.summary.meanKL, .measured, unit: "nats/token")
    }

    /// Per-layer series (x = layer index).
    static func addLayers(_ s: TraceSummary, to r: inout ResultRecord, names: Set<String> = ["recall", "mass", "cosine", "read"]) {
        let x = s.layers.map { Double($0.layer) }
        if names.contains("recall") { r.addSeries("layer_recall", s.layers.map(\.recall), x: x, .measured) }
        if names.contains("mass") { r.addSeries("layer_mass", s.layers.map(\.mass), x: x, .measured) }
        if names.contains("cosine") { r.addSeries("layer_cosine", s.layers.map(\.cosine), x: x, .measured) }
        if names.contains("read") { r.addSeries("layer_read_fraction", s.layers.map(\.readFraction), x: x, .measured) }
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }

    /// Golden files pin summary numbers: wall times and long per-layer or per-position
    /// series are left out.
    static func goldenTolerance(_ name: String, pinnedSeries: Set<String> = []) -> Tolerance? {
        if name == "seconds" || name.hasSuffix("_seconds") { return nil }
        if name.hasPrefix("layer_") && !pinnedSeries.contains(name) { return nil }
        return Tolerance(absolute: 1e-6, relative: 1e-4)
    }
}

extension ExperimentResult {
    func number(_ name: String) -> Double { record.double(name) ?? .nan }
}

enum AccuracyFormat {
    static func number(_ x: Double, _ digits: Int = 3) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "-" }
    static func percent(_ x: Double, _ digits: Int = 1) -> String { x.isFinite ? String(format: "%.\(digits)f%%", 100 * x) : "-" }
}
