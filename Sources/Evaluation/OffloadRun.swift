import Foundation
import Model
import Numerics
import Policies

/// A real offloaded decode on this machine: the KV cache of every sequence lives in a
/// `TwoTierKVStorage` (host pool + prefetch thread), the engine computes on one core and
/// the prefetch thread copies rows on the other. What the offload simulator predicts for
/// the same configuration can be set against what this measures.
public enum OffloadRun {
    public struct Settings: Sendable, Equatable {
        public var prompt: Int
        /// Decode steps, one token per `forward` call.
        public var generate: Int
        public var batch: Int
        /// Feed the text's next token at every step (repeatable); false: greedy argmax.
        public var teacherForced: Bool

        public init(prompt: Int, generate: Int, batch: Int = 1, teacherForced: Bool = true) {
            self.prompt = prompt
            self.generate = generate
            self.batch = batch
            self.teacherForced = teacherForced
        }

        /// Tokens each sequence needs from the text.
        public var tokensPerSequence: Int { prompt + generate }

        public func validate() throws {
            guard prompt >= 1 else { throw OffloadRunError("prompt must be at least 1 token (got \(prompt))") }
            guard generate >= 1 else { throw OffloadRunError("generate must be at least 1 step (got \(generate))") }
            guard (1...64).contains(batch) else { throw OffloadRunError("batch must be in 1...64 (got \(batch))") }
            guard prompt + generate <= 32768 else {
                throw OffloadRunError("prompt + generate must be at most 32768 tokens (got \(prompt + generate))")
            }
        }
    }

    /// Sequence `b` of the batch reads tokens `b * tokensPerSequence ..< (b+1) * tokensPerSequence`
    /// of the text, so the batch's sequences differ.
    public static func textTokensNeeded(_ settings: Settings) -> Int { settings.batch * settings.tokensPerSequence }

    /// Whether the method's policy keeps plain f32 rows (the only kind the two-tier store
    /// holds); throws a one-line error naming the method otherwise.
    public static func checkTwoTier(_ method: any KVMethod, spec: String, config: LlamaConfig) throws {
        let storage = method.makePolicy().makeStorage(config: config, capacity: 1)
        guard storage is DenseKVStorage else {
            throw OffloadRunError("\(spec) keeps its cache in its own storage (\(type(of: storage))); the two-tier run holds only plain f32 rows")
        }
    }

    /// Runs prefill (the first `prompt` tokens of each sequence, `policyStart` = prompt)
    /// and `generate` decode steps, timing each step.
    ///
    /// The engine runs on one thread (`Parallel.threads` and the BLAS threads are set to 1
    /// for the run and restored afterwards); the prefetch threads use the other cores.
    /// `onStep(step, logits)` sees each decode step's logits (one row per sequence).
    public static func run(model: LlamaModel, method: any KVMethod, spec: String, textTokens: [Int],
                           text: String, settings: Settings,
                           onStep: ((Int, [FloatBuffer]) -> Void)? = nil) throws -> OffloadRunResult {
        try settings.validate()
        let c = model.config
        try checkTwoTier(method, spec: spec, config: c)
        let per = settings.tokensPerSequence, n = settings.prompt
        guard textTokens.count >= settings.batch * per else {
            throw OffloadRunError("the text has \(textTokens.count) tokens; \(settings.batch) x (\(n) + \(settings.generate)) needed")
        }
        let sequences = (0..<settings.batch).map { Array(textTokens[($0 * per)..<(($0 + 1) * per)]) }

        let savedThreads = Parallel.threads, savedBLAS = BLASRuntime.threads
        Parallel.threads = 1
        BLASRuntime.setThreads(1)
        defer {
            Parallel.threads = savedThreads
            BLASRuntime.setThreads(savedBLAS)
        }

        let policies = sequences.map { _ in TimedPolicy(method.makePolicy()) }
        let stores = sequences.map { _ in
            TwoTierKVStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, capacity: per + 1)
        }
        defer { for s in stores { s.stop() } }
        let states = zip(policies, stores).map { policy, store in
            model.newSequence(policy: policy, policyStart: n, capacity: per + 1, storage: store)
        }
        let loadBefore = Self.loadAverage()

        var clock = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { clock = now }
            return Double(now - clock) / 1e9
        }
        var logits = try model.forward(zip(states, sequences).map { ($0, Array($1[0..<n])) }, logits: .last)
        let prefillSeconds = lap()
        for s in stores {
            s.resetStats()
            _ = s.takeRowLog()
            s.logsRows = true
        }
        for p in policies { p.reset() }

        var steps: [OffloadRunStep] = []
        var rows: [[[Int]]] = []
        var prefetched = [Int](repeating: 0, count: c.layers), reads = [Int](repeating: 0, count: c.layers)
        for step in 0..<settings.generate {
            let next = sequences.indices.map { b in
                settings.teacherForced ? sequences[b][n + step] : Kernels.argmax(logits[b].pointer, c.vocabSize)
            }
            let cpu0 = TwoTierKVStorage.threadCPUSeconds()
            _ = lap()
            logits = try model.forward(zip(states, next).map { ($0, [$1]) }, logits: .last)
            let seconds = lap()
            onStep?(step, logits)
            var record = OffloadRunStep(seconds: seconds, stallSeconds: 0, copySeconds: 0, bytes: 0,
                                        prefetchedRows: 0, demandRows: 0, policySeconds: 0,
                                        engineCPUSeconds: TwoTierKVStorage.threadCPUSeconds() - cpu0, demandSeconds: 0)
            var stepRows = [[Int]](repeating: [Int](repeating: 0, count: settings.batch * c.kvHeads), count: c.layers)
            for (b, store) in stores.enumerated() {
                let m = store.measured
                record.stallSeconds += m.stallSeconds
                record.copySeconds += m.copySeconds
                record.demandSeconds += m.demandSeconds
                record.bytes += m.bytesCopied
                record.prefetchedRows += m.prefetchedRows
                record.demandRows += m.demandRows
                store.resetStats()
                for read in store.takeRowLog() where read.layer < c.layers && read.kvHead < c.kvHeads {
                    stepRows[read.layer][b * c.kvHeads + read.kvHead] = read.rows
                    reads[read.layer] += read.rows
                    prefetched[read.layer] += read.prefetchedRows
                }
                record.policySeconds += policies[b].seconds
                policies[b].reset()
            }
            steps.append(record)
            rows.append(stepRows)
        }
        let first = policies[0].inner
        return OffloadRunResult(
            policy: spec, prompt: n, generate: settings.generate, batch: settings.batch, text: text,
            inputs: settings.teacherForced ? "teacher-forced" : "greedy",
            selectsAhead: first.selectsAhead, firstManagedLayer: first.firstManagedLayer,
            machine: machineDescription, loadBefore: loadBefore, loadAfter: Self.loadAverage(),
            prefillSeconds: prefillSeconds, steps: steps, rows: rows,
            prefetchedShare: zip(prefetched, reads).map { $1 > 0 ? Double($0) / Double($1) : 0 })
    }

    /// Runs every method `repeats` times, round-robin (so a change in the machine's load
    /// hits all of them alike), and keeps for each the run with the fastest median step:
    /// the least disturbed one, as profilers keep the best of several timings. Rows and
    /// bytes are the same in every repetition (teacher-forced inputs).
    public static func runAll(model: LlamaModel, methods: [(spec: String, method: any KVMethod)], textTokens: [Int],
                              text: String, settings: Settings, repeats: Int = 1,
                              log: (String) -> Void = { _ in }) throws -> [OffloadRunResult] {
        var best: [OffloadRunResult?] = Array(repeating: nil, count: methods.count)
        for round in 0..<max(1, repeats) {
            for (i, m) in methods.enumerated() {
                log("offload run \(round + 1)/\(max(1, repeats)): \(m.spec), prompt \(settings.prompt), \(settings.generate) steps, batch \(settings.batch)")
                let r = try run(model: model, method: m.method, spec: m.spec, textTokens: textTokens, text: text,
                                settings: settings)
                if let b = best[i], b.medianStepSeconds <= r.medianStepSeconds { continue }
                best[i] = r
            }
        }
        return best.map { $0! }
    }

    /// "AMD EPYC, 2 cores; engine on 1 thread + prefetch thread".
    public static var machineDescription: String {
        "\(BLASRuntime.cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; engine on 1 thread + prefetch thread"
    }

    /// The 1-minute load average (Linux), or NaN where unavailable.
    public static func loadAverage() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = s.split(separator: " ").first, let v = Double(first) else { return .nan }
        return v
    }
}

public struct OffloadRunError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
