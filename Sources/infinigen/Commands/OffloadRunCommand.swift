import ArgumentParser
import Evaluation
import Experiments
import Foundation
import Model
import Policies

/// `infinigen offload-run`: real two-tier decode runs (KV cache in a host pool, a prefetch
/// thread copying the rows each layer reads) and, with `--compare-sim`, the offload
/// simulator's prediction for the same configurations on this machine's profile.
struct OffloadRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offload-run",
        abstract: "Decode with the KV cache offloaded to a two-tier store on this CPU; measure step time, stalls, copies and rows read; optionally compare with the simulator.",
        discussion: """
        The engine computes on one core; each sequence's prefetch thread copies the rows a policy \
        will read into a compact working buffer on another. Policies that choose layer l+1's rows \
        while layer l runs get their copies overlapped; others fetch on demand (a stall).
          infinigen offload-run --policy full --policy h2o --policy infinigen --prompt 1024 --generate 64 --compare-sim
        With --compare-sim the `this-machine` profile is read from --profile (measured first if \
        absent or with --reprofile) and every policy is simulated with the token counts it read. \
        Numbers from runs are labelled "measured on <cpu>"; simulator numbers "modeled".
        """)

    @OptionGroup var engine: EngineOptions

    @Option(name: .customLong("policy"), help: "KV policy spec (repeatable): name[:key=value,...].")
    var policies: [String] = []

    @Option(help: "Prompt tokens (prefill, read in full).")
    var prompt = 1024

    @Option(help: "Decode steps (one token per call).")
    var generate = 64

    @Option(help: "Sequences decoded together (each with its own two-tier store).")
    var batch = 1

    @Option(help: "Text the tokens come from: wiki, a novel name or a file path.")
    var text = "wiki"

    @Option(help: "Run every policy this many times (round-robin) and keep each one's fastest run.")
    var repeats = 1

    @Flag(help: "Feed the greedy argmax instead of the text's next token (less repeatable).")
    var greedy = false

    @Flag(help: "Also simulate every configuration on this machine's profile and compare.")
    var compareSim = false

    @Option(help: "The this-machine profile (measured and written here if absent).")
    var profile = "artifacts/this-machine.json"

    @Flag(help: "Measure this machine again even if the profile exists.")
    var reprofile = false

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func validate() throws {
        guard !policies.isEmpty else { throw ValidationError("give at least one --policy") }
        guard (1...16384).contains(prompt) else { throw ValidationError("--prompt must be in 1...16384 (got \(prompt))") }
        guard (1...4096).contains(generate) else { throw ValidationError("--generate must be in 1...4096 (got \(generate))") }
        guard (1...64).contains(batch) else { throw ValidationError("--batch must be in 1...64 (got \(batch))") }
        guard (1...20).contains(repeats) else { throw ValidationError("--repeats must be in 1...20 (got \(repeats))") }
        for p in policies { _ = try PolicyRegistry.parse(p) }
    }

    func run() throws {
        let (_, model, tokenizer) = try engine.load()
        let settings = OffloadRun.Settings(prompt: prompt, generate: generate, batch: batch, teacherForced: !greedy)
        let ids = try Corpus.tokens(text, tokenizer: tokenizer, count: OffloadRun.textTokensNeeded(settings))
        let context = MethodContext(calibrationTokens: {
            try Corpus.tokens(Corpus.calibrationText, tokenizer: tokenizer, count: 2048)
        })
        // Check every policy first: a bad one fails before any long run.
        var methods: [(spec: String, method: any KVMethod)] = []
        for p in policies {
            let spec = try PolicyRegistry.canonical(p)
            let method = try PolicyRegistry.make(p, model: model, context: context)
            try OffloadRun.checkTwoTier(method, spec: spec, config: model.config)
            methods.append((spec, method))
        }
        let results = try OffloadRun.runAll(model: model, methods: methods, textTokens: ids, text: text,
                                            settings: settings, repeats: repeats, log: { note($0) })
        var comparison: OffloadRunComparison?
        if compareSim {
            let url = URL(fileURLWithPath: profile)
            let hardware = try OffloadRunSimulation.machineProfile(at: url, remeasure: reprofile, model: model,
                                                                   log: { note($0) })
            comparison = try OffloadRunComparison(runs: results, hardware: hardware,
                                                  shape: try OffloadRunSimulation.shape(model: model))
        }
        if json {
            print(try OffloadRunReport.json(results, comparison: comparison))
        } else {
            print(OffloadRunReport.text(results, comparison: comparison))
        }
    }
}
