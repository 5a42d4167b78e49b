import ArgumentParser
import Foundation
import GGUF
import Model
import Numerics
import Policies
import Evaluation
import Tokenizer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Prefill and decode throughput, peak memory, and each as a fraction of this machine's limits.",
        discussion: "Prefill is compared with the sgemm rate of the loaded OpenBLAS kernel; decode with the memory read bandwidth (every compressed weight is streamed once per step). Both limits are measured by this command.")

    @OptionGroup var engine: EngineOptions

    @Option(help: "Prompt length for the prefill measurement.")
    var prompt = 512

    @Option(help: "Decode steps per measurement.")
    var steps = 64

    @Option(help: "Context already in the cache before decode steps are timed.")
    var decodeContext = 128

    @Option(help: "Batch sizes for decode, comma-separated.")
    var batches = "1,8"

    @Option(help: "Policy whose own per-step overhead (speculation, selection) is measured at batch 1; 'none' skips it.")
    var overheadPolicy = "infinigen"

    @Option(help: "Context in the cache when the policy overhead is measured.")
    var overheadContext = 1024

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (1...8192).contains(prompt) else { throw ValidationError("--prompt must be in 1...8192") }
        guard (1...4096).contains(steps) else { throw ValidationError("--steps must be in 1...4096") }
        guard (1...8192).contains(decodeContext) else { throw ValidationError("--decode-context must be in 1...8192") }
        guard (1...8192).contains(overheadContext) else { throw ValidationError("--overhead-context must be in 1...8192") }
        guard parsedBatches != nil else { throw ValidationError("--batches must be comma-separated integers in 1...64") }
    }

    var parsedBatches: [Int]? {
        let parts = batches.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && (1...64).contains($0!) }) else { return nil }
        return parts.map { $0! }
    }

    func run() throws {
        engine.applyThreads()
        let gguf = try GGUFFile(path: try engine.modelPath())
        let model = try LlamaModel(gguf: gguf)
        let c = model.config
        var rng = SplitMix64(seed: 1)
        func tokens(_ n: Int) -> [Int] { (0..<n).map { _ in Int(rng.next() % UInt64(c.vocabSize)) } }

        note("measuring machine limits...")
        let gflops = MachineLimits.sgemmGFLOPS()
        let bandwidth = MachineLimits.readBandwidthGBs(threads: engine.threadCount)

        note("prefill \(prompt) tokens...")
        _ = try model.forward([(model.newSequence(capacity: prompt), tokens(min(prompt, 64)))])   // warm-up
        var prefillBest = Double.infinity
        for _ in 0..<3 {
            let seq = model.newSequence(capacity: prompt)
            let ids = tokens(prompt)
            let t0 = Date()
            _ = try model.forward([(seq, ids)], logits: .last)
            prefillBest = min(prefillBest, Date().timeIntervalSince(t0))
        }
        let prefillRate = Double(prompt) / prefillBest
        let weightParams = model.weights.layers.reduce(0.0) { acc, w in
            acc + Double([w.wq, w.wk, w.wv, w.wo, w.wGate, w.wUp, w.wDown].reduce(0) { $0 + $1.rows * $1.cols })
        }
        // Matrix FLOPs per prompt token (projections, MLP; output only for the last row) plus causal attention.
        let attentionFlops = Double(c.layers) * 2 * 2 * Double(c.heads * c.headDim) * Double(prompt) / 2
        let prefillFlopsPerToken = 2 * weightParams + attentionFlops
        let prefillFraction = prefillRate * prefillFlopsPerToken / (gflops * 1e9)

        let streamedBytes = Double(model.weights.layers.reduce(0) { acc, w in
            acc + [w.wq, w.wk, w.wv, w.wo, w.wGate, w.wUp, w.wDown].reduce(0) { $0 + $1.compressedBytes }
        } + model.weights.output.compressedBytes)

        var decode: [(batch: Int, rate: Double, fraction: Double)] = []
        for batch in parsedBatches! {
            note("decode at batch \(batch)...")
            let seqs = (0..<batch).map { _ in model.newSequence(capacity: decodeContext + steps + 1) }
            _ = try model.forward(seqs.map { ($0, tokens(decodeContext)) }, logits: .none)
            var next = seqs.map { _ in tokens(1)[0] }
            let t0 = Date()
            for _ in 0..<steps {
                let rows = try model.forward(zip(seqs, next).map { ($0, [$1]) })
                next = rows.map { Kernels.argmax($0.pointer, c.vocabSize) }
            }
            let seconds = Date().timeIntervalSince(t0)
            let stepRate = Double(steps) / seconds
            let kvBytes = Double(c.layers * 2 * c.kvDim * 4) * Double(decodeContext + steps / 2) * Double(batch)
            decode.append((batch, stepRate * Double(batch), stepRate * (streamedBytes + kvBytes) / (bandwidth * 1e9)))
        }
        // A policy's own cost per decode step: time inside its hooks over the step time.
        var overhead: (spec: String, fraction: Double, stepMs: Double, hooksMs: Double)?
        if overheadPolicy != "none" {
            note("decode at batch 1 under \(overheadPolicy)...")
            let tokenizer = try BPETokenizer.from(gguf: gguf)
            let context = MethodContext(calibrationTokens: {
                try Corpus.tokens(Corpus.calibrationText, tokenizer: tokenizer, count: 2048)
            })
            let method = try PolicyRegistry.make(overheadPolicy, model: model, context: context)
            let timed = TimedPolicy(method.makePolicy())
            let seq = model.newSequence(policy: timed, policyStart: overheadContext, capacity: overheadContext + steps + 1)
            _ = try model.forward([(seq, tokens(overheadContext))], logits: .none)
            timed.reset()
            var next = tokens(1)[0]
            let t0 = Date()
            for _ in 0..<steps {
                let row = try model.forward([(seq, [next])])[0]
                next = Kernels.argmax(row.pointer, c.vocabSize)
            }
            let seconds = Date().timeIntervalSince(t0)
            overhead = (try PolicyRegistry.canonical(overheadPolicy), timed.seconds / seconds,
                        1000 * seconds / Double(steps), 1000 * timed.seconds / Double(steps))
        }
        let peakMB = Double(peakResidentKB()) / 1024

        if json {
            var obj: [String: Any] = [
                "machine": "\(BLASRuntime.cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores",
                "blas_kernel": BLASRuntime.coreName, "threads": engine.threadCount,
                "sgemm_gflops": gflops, "read_bandwidth_gbs": bandwidth,
                "prefill_tokens": prompt, "prefill_tokens_per_s": prefillRate, "prefill_fraction_of_sgemm": prefillFraction,
                "peak_rss_mb": peakMB,
            ]
            if let overhead {
                obj["overhead_policy"] = overhead.spec
                obj["overhead_fraction_of_step"] = overhead.fraction
                obj["overhead_step_ms"] = overhead.stepMs
            }
            for d in decode {
                obj["decode_batch\(d.batch)_tokens_per_s"] = d.rate
                obj["decode_batch\(d.batch)_fraction_of_bandwidth"] = d.fraction
            }
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("machine      \(BLASRuntime.cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; OpenBLAS \(BLASRuntime.coreName); \(engine.threadCount) threads")
        print(String(format: "limits       sgemm %.0f GFLOP/s; memory read %.1f GB/s", gflops, bandwidth))
        print(String(format: "prefill      %d tokens: %.0f tokens/s (%.0f%% of sgemm peak)", prompt, prefillRate, 100 * prefillFraction))
        for d in decode {
            print(String(format: "decode b=%-3d %.1f tokens/s aggregate (%.0f%% of read bandwidth; %.1f MB streamed per step)",
                         d.batch, d.rate, 100 * d.fraction, streamedBytes / 1e6))
        }
        if let overhead {
            print(String(format: "policy cost  %@: %.2f ms of a %.2f ms decode step in its hooks (%.1f%%), batch 1, context %d",
                         overhead.spec, overhead.hooksMs, overhead.stepMs, 100 * overhead.fraction, overheadContext))
        }
        print(String(format: "peak memory  %.0f MB resident", peakMB))
    }
}

/// VmHWM from /proc/self/status (peak resident set), in KB.
func peakResidentKB() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}
