import ArgumentParser
import Evaluation
import Foundation
import Model
import Policies
import Trace

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Score a text under a KV policy against the full cache: perplexity, KL, top-1 agreement, recall, attention mass, output cosine, bytes moved.",
        discussion: """
        Policies: \(PolicyRegistry.names.joined(separator: ", ")). Parameters follow a colon, e.g.
          infinigen run --policy h2o:heavy=0.1,recent=0.1 --text wiki --tokens 2048
          infinigen run --policy infinigen:alpha=5,budget=0.2 --layers
        `infinigen policies` lists every parameter with its range and default.

        Two protocols:
          decode    (default) the engine reads only the rows the policy selects, position by position,
                    each position's budget taken from the positions before it.
          artifact  the artifact's accuracy protocol: one full forward pass with attention masks, the
                    budget from the whole input (fetch_max = int(budget x L), rows below it full),
                    H2O's sizes fixed at int(r x L); reports the density of the causal triangle and the
                    artifact's retain ratio 1 - sqrt(1 - density). Methods: \(ArtifactMethod.supported.joined(separator: ", ")).
          infinigen run --protocol artifact --policy infinigen:alpha=5,budget=0.2 --text wiki --tokens 2048
        """)

    @OptionGroup var engine: EngineOptions

    @Option(help: "KV policy spec: name[:key=value,...].")
    var policy = "full"

    @Option(help: "Text: wiki, a novel name (prideprejudice, emma, ...) or a file path.")
    var text = "wiki"

    @Option(help: "Tokens to score (one teacher-forced window).")
    var tokens = 1024

    @Option(help: "decode (the engine's per-position selection) or artifact (masked full forward, as the artifact's accuracy path).")
    var `protocol` = "decode"

    @Option(help: "Positions before this read the full cache (0: every position is policy-managed, as in the accuracy studies).")
    var policyStart = 0

    @Flag(help: "Print the per-layer table.")
    var layers = false

    @Option(help: "Write the attention and token records to this JSON file.")
    var trace: String?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard (2...8192).contains(tokens) else { throw ValidationError("--tokens must be in 2...8192 (got \(tokens))") }
        guard policyStart >= 0 && policyStart < tokens else { throw ValidationError("--policy-start must be in 0..<\(tokens)") }
        _ = try PolicyRegistry.parse(policy)
        switch `protocol` {
        case "decode": break
        case "artifact":
            _ = try ArtifactMethod.parse(policy)
            guard policyStart == 0 else { throw ValidationError("--policy-start applies to the decode protocol only") }
            guard trace == nil else { throw ValidationError("--trace applies to the decode protocol only") }
        default: throw ValidationError("--protocol must be decode or artifact (got '\(`protocol`)')")
        }
    }

    func run() throws {
        if `protocol` == "artifact" { return try runArtifact() }
        let (_, model, tokenizer) = try engine.load()
        let ids = try Corpus.tokens(text, tokenizer: tokenizer, count: tokens)
        let context = MethodContext(calibrationTokens: {
            try Corpus.tokens(Corpus.calibrationText, tokenizer: tokenizer, count: 2048)
        })
        let start = Date()
        let method = try PolicyRegistry.make(policy, model: model, context: context)
        note("scoring \(ids.count) tokens of \(text) under \(try PolicyRegistry.canonical(policy))...")
        let reference = try PolicyComparison.Reference(model: model, tokens: ids)
        let recorder = try PolicyComparison.run(model: model, reference: reference, policy: method.makePolicy(),
                                                policyStart: policyStart)
        let s = recorder.summary()
        if let trace {
            struct Dump: Encodable { let policy: String; let attention: [AttentionRecord]; let tokens: [TokenRecord] }
            let data = try JSONEncoder().encode(Dump(policy: try PolicyRegistry.canonical(policy),
                                                     attention: recorder.attentionRecords, tokens: recorder.tokenRecords))
            let url = URL(fileURLWithPath: trace)
            let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
            try data.write(to: tmp)
            _ = try FileManager.default.replaceItemAt(url, withItemAt: tmp)
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try enc.encode(s), as: UTF8.self))
            return
        }
        print("policy       \(try PolicyRegistry.canonical(policy))")
        print("text         \(text), \(ids.count) tokens, policy from position \(policyStart)")
        print(String(format: "perplexity   %.4f (full cache %.4f)", s.perplexity, s.perplexityFull))
        print(String(format: "KL vs full   %.5f nats/token; top-1 agreement %.2f%%", s.meanKL, 100 * s.top1Agreement))
        print(String(format: "read         %.1f%% of cached rows (all layers); managed layers: recall %.3f, mass %.3f, cosine %.4f",
                     100 * s.readFraction, s.recall, s.mass, s.cosine))
        print(String(format: "link bytes   %.1f KB per token (all layers, fp16 rows)", s.linkBytesPerToken / 1e3))
        print(String(format: "time         %.1f s", Date().timeIntervalSince(start)))
        if layers {
            print("\nlayer managed read%   recall  mass    cosine  KB/token")
            for l in s.layers {
                print(String(format: "%5d %-7@ %6.1f  %6.3f  %6.3f  %7.4f  %8.1f", l.layer, l.managed ? "yes" : "no",
                             100 * l.readFraction, l.recall, l.mass, l.cosine, l.linkBytesPerToken / 1e3))
            }
        }
    }

    /// The artifact protocol: the method's masked pass against the full masked pass.
    private func runArtifact() throws {
        let (_, model, tokenizer) = try engine.load()
        let ids = try Corpus.tokens(text, tokenizer: tokenizer, count: tokens)
        let methodContext = MethodContext(calibrationTokens: {
            try Corpus.tokens(Corpus.calibrationText, tokenizer: tokenizer, count: 2048)
        })
        let start = Date()
        let context = ArtifactContext(methodContext: methodContext, tokenizer: tokenizer)
        let evaluator = try ArtifactEvaluator(model: model, spec: policy, context: context)
        note("scoring \(ids.count) tokens of \(text) under \(evaluator.canonical), artifact protocol (masked full forward)...")
        let full = try ArtifactEvaluator(model: model, spec: "full", context: context).forward(ids)
        let pass = try evaluator.forward(ids)
        let nll = pass.nll(), nllFull = full.nll()
        let (kl, top1) = pass.compare(with: full)
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(x.count, 1)) }
        let s = pass.statistics
        print("policy       \(evaluator.canonical)")
        print("protocol     artifact (one masked forward pass; \(evaluator.conventions.summary))")
        print("text         \(text), \(ids.count) tokens, all \(ids.count - 1) predictions scored")
        print(String(format: "perplexity   %.4f (full cache %.4f)", exp(mean(nll)), exp(mean(nllFull))))
        print(String(format: "KL vs full   %.5f nats/token; top-1 agreement %.2f%%", mean(kl),
                     100 * Double(top1.filter { $0 }.count) / Double(max(top1.count, 1))))
        print(String(format: "density      %.2f%% of the causal triangle (layers %d-%d); retain ratio r = 1 - sqrt(1 - density) = %.2f%%",
                     100 * s.density, evaluator.spare, model.config.layers - 1, 100 * s.retainRatio))
        if case .infinigen = evaluator.method {
            print(String(format: "masks        fetch_max %d (rows 0..<%d full); rows at the cap %.1f%%, rows selecting nothing %.1f%%, evictions %.1f per head and layer",
                         s.fetchMax, s.fetchMax, 100 * s.cappedRowShare, 100 * s.emptyRowShare, s.evictionsPerHead))
        }
        print(String(format: "time         %.1f s", Date().timeIntervalSince(start)))
        if layers {
            print("\nlayer managed density  capped%  empty%  evictions")
            for l in s.layers {
                print(String(format: "%5d %-7@ %6.2f%%  %6.1f  %6.1f  %9.1f", l.layer, l.managed ? "yes" : "no", 100 * l.density,
                             100 * l.cappedRowShare, 100 * l.emptyRowShare, l.evictionsPerHead))
            }
        }
    }
}
