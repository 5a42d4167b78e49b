import Dispatch
import Foundation
import Model
import Numerics

/// Times the workbench engine's own decode step on this machine, as the "device" of the
/// `this-machine` profile really runs it: quantized matrix-vector products for the weights,
/// and attention over rows copied out of a two-tier store. Neither is an sgemm nor a plain
/// memory stream, so the generic rates of `MachineProfiler` (one-thread sgemm, sgemv) mispredict
/// them; these numbers replace them.
///
/// Method: decode with the cache in a `TwoTierKVStorage` and no policy (every layer's rows
/// are prefetched while the previous layer computes), one engine thread, at a short and a
/// long context. The compute per step (wall time minus the waits for rows) is a line in the
/// context length: the intercept is the context-independent work (weights, norms, output
/// head), the slope the work per cached token (attention over its K and V rows). The
/// prefetch thread's copy rate is the link.
public struct EngineProfiler: Sendable {
    public struct Settings: Sendable {
        public var contexts = [64, 384, 704, 1024]
        public var steps = 16
        /// Whole measurements per context; the fastest (least disturbed) one counts.
        public var repetitions = 1
        /// Interleaved (on demand, prefetched) runs at the longest context; the median counts.
        public var demandPairs = 5
        public init() {}

        public static var quick: Settings {
            var s = Settings()
            s.contexts = [32, 128, 256]
            s.steps = 6
            s.repetitions = 1
            s.demandPairs = 1
            return s
        }
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Measures `model` decoding on one engine thread (thread settings are restored).
    public func measure(model: LlamaModel) throws -> EngineMeasurements {
        let contexts = settings.contexts.sorted()
        guard contexts.count >= 2, contexts[0] >= 1, contexts[0] < contexts[contexts.count - 1] else {
            throw OffloadError.invalidOptions("engine profiling needs at least two different contexts >= 1")
        }
        let savedThreads = Parallel.threads, savedBLAS = BLASRuntime.threads
        Parallel.threads = 1
        BLASRuntime.setThreads(1)
        defer {
            Parallel.threads = savedThreads
            BLASRuntime.setThreads(savedBLAS)
        }
        var points: [EngineMeasurements.Point] = []
        for context in contexts {
            var best: EngineMeasurements.Point?
            for _ in 0..<max(1, settings.repetitions) {
                let p = try decode(model: model, context: context)
                if best == nil || p.computeSeconds < best!.computeSeconds { best = p }
            }
            points.append(best!)
        }
        // The longest context with every row fetched on demand by the engine itself, against
        // the same context prefetched, in interleaved pairs: the demand cost is a difference of
        // two ~20 ms steps, so drift between separate runs (clock, memory placement) swamped it;
        // the median pair's difference counts.
        let longest = contexts[contexts.count - 1]
        var pairs: [(demand: EngineMeasurements.Point, prefetched: EngineMeasurements.Point)] = []
        for _ in 0..<max(1, settings.demandPairs) {
            pairs.append((try decode(model: model, context: longest, prefetching: false), try decode(model: model, context: longest)))
        }
        pairs.sort { $0.demand.engineCPUSeconds - $0.prefetched.engineCPUSeconds < $1.demand.engineCPUSeconds - $1.prefetched.engineCPUSeconds }
        let median = pairs[pairs.count / 2]
        let demand = median.demand
        let demandExtra = median.demand.engineCPUSeconds - median.prefetched.engineCPUSeconds
        let c = model.config
        let w = model.weights
        let layerBytes = w.layers.reduce(0) { acc, l in
            acc + [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown].reduce(0) { $0 + $1.compressedBytes }
        }
        return EngineMeasurements(points: points, demand: demand, demandExtraSeconds: demandExtra, layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim,
                                  layerWeightBytes: Double(layerBytes),
                                  outputWeightBytes: Double(w.output.compressedBytes),
                                  layerWeightFormat: w.layers[0].wq.format.rawValue,
                                  outputWeightFormat: w.output.format.rawValue)
    }

    /// Median step at one context: prefill `context` tokens, then `steps` decode steps.
    /// The engine's work is its thread's CPU time minus the demand fetch of layer 0 (which
    /// no earlier layer can prefetch); the link is the prefetch thread's CPU time per byte.
    /// CPU clocks keep the numbers steady when other processes share the machine.
    ///
    /// With `prefetching` false every row is fetched on demand by the engine: its CPU time
    /// (copies included) is the point's compute.
    func decode(model: LlamaModel, context: Int, prefetching: Bool = true) throws -> EngineMeasurements.Point {
        let c = model.config
        var rng = SplitMix64(seed: 0x5EED + UInt64(context))
        let tokens = (0..<(context + settings.steps)).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
        let store = TwoTierKVStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim,
                                     capacity: tokens.count + 1, prefetching: prefetching)
        defer { store.stop() }
        let seq = model.newSequence(capacity: tokens.count + 1, storage: store)
        try model.forward([(seq, Array(tokens[0..<context]))], logits: .none)
        var walls: [Double] = [], stalls: [Double] = [], computes: [Double] = [], cpus: [Double] = []
        var copyCPU = 0.0, prefetchedBytes = 0.0
        let rowBytes = Double(2 * c.headDim * 4)
        for t in context..<tokens.count {
            store.resetStats()
            let start = DispatchTime.now().uptimeNanoseconds, cpu = TwoTierKVStorage.threadCPUSeconds()
            try model.forward([(seq, [tokens[t]])], logits: .last)
            let engineCPU = TwoTierKVStorage.threadCPUSeconds() - cpu
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let m = store.measured
            walls.append(wall)
            stalls.append(m.stallSeconds)
            cpus.append(engineCPU)
            computes.append(max(0, engineCPU - (prefetching ? m.demandCPUSeconds : 0)))
            copyCPU += m.copyCPUSeconds - m.demandCPUSeconds
            prefetchedBytes += Double(m.prefetchedRows) * rowBytes
        }
        return EngineMeasurements.Point(context: context, stepSeconds: Self.median(walls),
                                        stallSeconds: Self.median(stalls), computeSeconds: Self.median(computes),
                                        engineCPUSeconds: Self.median(cpus),
                                        copyBytesPerSecond: copyCPU > 0 ? prefetchedBytes / copyCPU : 0)
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? .nan : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }
}

/// What `EngineProfiler` measured: decode steps at several contexts, and the line through
/// their compute time.
public struct EngineMeasurements: Codable, Sendable, Equatable {
    public struct Point: Codable, Sendable, Equatable {
        public var context: Int
        public var stepSeconds: Double
        public var stallSeconds: Double
        /// The engine thread's own work: its CPU time minus demand fetches (with prefetching).
        public var computeSeconds: Double
        /// The engine thread's CPU time, its demand fetches included.
        public var engineCPUSeconds: Double
        /// Rows copied per second of the prefetch thread's CPU time.
        public var copyBytesPerSecond: Double
    }

    public var points: [Point]
    /// The longest context again, every row fetched on demand by the engine itself.
    public var demand: Point
    /// What demand fetching added to the engine's step over prefetching at that context, from
    /// interleaved pairs (nil in measurements that predate them: `demand` minus the point).
    public var demandExtraSeconds: Double?
    public var layers: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Compressed bytes of all layers' matrices, and of the output head.
    public var layerWeightBytes: Double
    public var outputWeightBytes: Double
    public var layerWeightFormat: String
    public var outputWeightFormat: String

    /// Least-squares line compute = fixed + perToken * context.
    public var fit: (fixedSeconds: Double, secondsPerToken: Double) {
        let n = Double(points.count)
        let xs = points.map { Double($0.context) }, ys = points.map(\.computeSeconds)
        let mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
        let sxx = zip(xs, xs).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - mx) }
        let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let slope = sxx > 0 ? max(0, sxy / sxx) : 0
        return (max(1e-9, my - slope * mx), slope)
    }

    /// The link: the copy rate at the longest context (most bytes, least overhead).
    public var copyBytesPerSecond: Double {
        points.max(by: { $0.context < $1.context })?.copyBytesPerSecond ?? 0
    }

    /// What fetching rows on demand adds to the engine's step over reading the same rows
    /// prefetched, per byte: the engine copies the rows itself and then reads them from its
    /// cache, so the copy largely replaces its read of the prefetched rows. Bytes per
    /// second of that marginal cost; infinite when demand fetching was no slower; nil
    /// without a prefetched point at the same context.
    public var demandBytesPerSecond: Double? {
        guard let prefetched = points.first(where: { $0.context == demand.context }) else { return nil }
        let extra = demandExtraSeconds ?? (demand.engineCPUSeconds - prefetched.engineCPUSeconds)
        // Layer 0 is fetched on demand in both runs; the other layers differ.
        let bytes = Double((layers - 1) * demand.context) * kvBytesPerTokenPerLayer
        return extra > 0 ? bytes / extra : .infinity
    }

    /// f32 K and V bytes per cached token and layer, as the engine stores them.
    public var kvBytesPerTokenPerLayer: Double { Double(2 * kvHeads * headDim * 4) }
}
