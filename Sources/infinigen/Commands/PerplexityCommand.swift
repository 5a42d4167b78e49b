import ArgumentParser
import Evaluation
import Foundation
import Model

struct PerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perplexity",
        abstract: "Perplexity of a text file, in windows of --context tokens advancing by --stride.",
        discussion: "Every token after the first is scored once. No BOS token is added. Example: infinigen perplexity .cache/infinigen/text/austen/prideprejudice.txt --context 512 --limit 512")

    @OptionGroup var engine: EngineOptions

    @Argument(help: "UTF-8 text file.")
    var file: String

    @Option(help: "Window length in tokens.")
    var context = 512

    @Option(help: "How far each window advances (default: --context, i.e. disjoint windows).")
    var stride: Int?

    @Option(help: "Score only the first N tokens of the text.")
    var limit: Int?

    func validate() throws {
        guard (2...65536).contains(context) else { throw ValidationError("--context must be in 2...65536 (got \(context))") }
        if let stride, !(1...context).contains(stride) { throw ValidationError("--stride must be in 1...\(context) (got \(stride))") }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(file) is not UTF-8 text") }
        let (_, model, tokenizer) = try engine.load()
        var tokens = tokenizer.encode(text)
        if let limit { tokens = Array(tokens.prefix(limit)) }
        let start = Date()
        let result = try Perplexity.evaluate(model: model, tokens: tokens, context: context, stride: stride ?? context, progress: { done, total in
            note("scored \(done)/\(total) tokens")
        })
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "perplexity %.4f over %d tokens (mean NLL %.5f); context %d, stride %d; %.1f s",
                     result.perplexity, result.tokens, result.meanNLL, context, stride ?? context, seconds))
    }
}
