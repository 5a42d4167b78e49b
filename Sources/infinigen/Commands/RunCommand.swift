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
        """)

    @OptionGroup var engine: EngineOptions

    @Option(help: "KV policy spec: name[:key=value,...].")
    var policy = "full"

    @Option(help: "Text: wiki, a novel name (prideprejudice, emma, ...) or a file path.")
    var text = "wiki"

    @Option(help: "Tokens to score (one teacher-forced window).")
    var tokens = 1024

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
    }

    func run() throws {
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
}
