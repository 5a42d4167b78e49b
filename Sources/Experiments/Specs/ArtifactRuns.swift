import Evaluation
import Foundation
import Model
import Policies
import Report

/// The two accuracy protocols an experiment configuration can name (its `protocol`):
/// `decode`, this workbench's own (the engine reads only the selected rows, position by
/// position, each position's budget from the positions before it), and `artifact`, the
/// artifact's mask simulation (one full forward pass per window, budget from the whole
/// window, full leading rows; docs/infinigen.md 1.6).
enum AccuracyProtocol: String, CaseIterable {
    case decode, artifact

    /// A configuration's protocol (configurations written before the parameter: decode).
    static func of(_ config: Configuration) -> AccuracyProtocol {
        (try? config.string("protocol")).flatMap(AccuracyProtocol.init(rawValue:)) ?? .decode
    }

    static func of(_ r: ExperimentResult) -> AccuracyProtocol { of(r.configuration) }

    var label: String { self == .decode ? "decode protocol" : "artifact protocol (masks)" }
    var title: String { self == .decode ? "Decode protocol" : "Artifact protocol (masks)" }

    /// Whether the artifact protocol can run a policy spec (its methods are a subset).
    static func artifactSupports(_ spec: String) -> Bool {
        (try? ArtifactMethod.parse(spec)) != nil
    }
}

/// One policy on one window under the artifact protocol, compared with the full masked pass.
struct ArtifactOutcome: Sendable {
    var policy: String
    var perplexity: Double
    var perplexityFull: Double
    var kl: Double
    var top1: Double
    /// Rows of the window (each predicts the token after it), and their NLLs.
    var positions: [Int]
    var nll: [Double]
    var nllFull: [Double]
    var statistics: MaskStatistics
    var seconds: Double
}

enum ArtifactRuns {
    static func context(_ engine: Engine) -> ArtifactContext {
        ArtifactContext(methodContext: engine.methodContext, tokenizer: engine.tokenizer)
    }

    /// The full masked pass over the first `tokens` tokens of `text`, shared per invocation.
    static func reference(text: String, tokens: Int, context: RunContext) async throws -> ArtifactPass {
        let engine = try await Engine.shared(context)
        let ids = try engine.tokens(text, count: tokens)
        return try await context.resources.value("artifact-reference/\(text)/\(tokens)", as: ArtifactPass.self) {
            try ArtifactEvaluator(model: engine.model, spec: "full", context: Self.context(engine)).forward(ids)
        }
    }

    static func compare(_ config: Configuration, context: RunContext) async throws -> ArtifactOutcome {
        try await compare(policy: try config.string("policy"), text: try config.string("text"),
                          tokens: try config.int("tokens"), context: context)
    }

    /// `policy` as one masked pass over the window (the artifact's perplexity scoring:
    /// every row predicts the next token).
    static func compare(policy spec: String, text: String, tokens: Int, context: RunContext) async throws -> ArtifactOutcome {
        // Keyed by the spec as the masks run it (InfiniGen's default columns differ from the registry's).
        let canonical = try ArtifactEvaluator.canonical(spec)
        return try await context.resources.value("artifact/\(text)/\(tokens)/\(canonical)", as: ArtifactOutcome.self) {
            let engine = try await Engine.shared(context)
            let full = try await reference(text: text, tokens: tokens, context: context)
            let start = Date()
            let evaluator = try ArtifactEvaluator(model: engine.model, spec: spec, context: Self.context(engine))
            let pass = try evaluator.forward(full.tokens)
            let nll = pass.nll(), nllFull = full.nll()
            let (kl, top1) = pass.compare(with: full)
            let seconds = Date().timeIntervalSince(start)
            func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
            context.log("\(context.experimentID): \(evaluator.canonical) on \(text)/\(tokens), artifact protocol, in \(String(format: "%.1f", seconds)) s")
            return ArtifactOutcome(policy: evaluator.canonical, perplexity: exp(mean(nll)), perplexityFull: exp(mean(nllFull)),
                                   kl: mean(kl), top1: Double(top1.filter { $0 }.count) / Double(max(top1.count, 1)),
                                   positions: Array(0..<nll.count), nll: nll, nllFull: nllFull,
                                   statistics: pass.statistics, seconds: seconds)
        }
    }

    /// The numbers every artifact-protocol record carries. `read_fraction_selecting` is the
    /// managed layers' density, the decode records' counterpart (rows read / rows available).
    static func add(_ o: ArtifactOutcome, to r: inout ResultRecord) {
        r.add("perplexity", o.perplexity, .measured)
        r.add("perplexity_full", o.perplexityFull, .measured)
        r.add("kl_vs_full", o.kl, .measured, unit: "nats/token")
        r.add("top1_agreement", o.top1, .measured)
        r.add("density", o.statistics.density, .measured, unit: "selected / causal triangle, managed layers")
        r.add("retain_ratio", o.statistics.retainRatio, .measured, unit: "1 - sqrt(1 - density)")
        r.add("read_fraction_selecting", o.statistics.density, .measured)
        r.add("fetch_max", Double(o.statistics.fetchMax), .measured, unit: "tokens")
        r.add("capped_row_share", o.statistics.cappedRowShare, .measured)
        r.add("evicted_per_head", o.statistics.evictionsPerHead, .measured, unit: "tokens per (layer, head)")
        r.add("seconds", o.seconds, .measured, unit: "s")
    }
}
