import Foundation
import Numerics

/// A real two-tier KV cache on one machine: the cache lives in a host pool, and a
/// prefetch thread copies (gathers) exactly the rows a policy will read into a compact
/// working buffer while the engine computes on the other core — the CPU-side stand-in
/// for an offloading system's host-to-device transfer. Attention reads only the working
/// buffer (plus the query's own, just-written row).
/// Under per-query-head selection (`Selection.setPerHead`) the rows prefetched and
/// gathered for a KV head are the union of its query heads' rows, fetched once.
///
/// It measures what the offload simulator predicts: time the engine waits for a
/// prefetch (stall), time the prefetch thread spends copying, bytes copied, and rows
/// fetched on demand because they were not prefetched (a prefetch that guessed part of
/// the rows still serves that part).
public final class TwoTierKVStorage: KVStorage, @unchecked Sendable {
    public struct Stats: Sendable {
        public var stallSeconds = 0.0
        public var copySeconds = 0.0
        /// CPU time of the copies (the copying thread's own clock): unlike `copySeconds`
        /// it does not grow when other processes take the core.
        public var copyCPUSeconds = 0.0
        /// The part of `copyCPUSeconds` spent in demand fetches, on the engine's thread.
        public var demandCPUSeconds = 0.0
        /// The part of `stallSeconds` (and `copySeconds`) spent in demand fetches; the rest
        /// of the stall is waiting for the prefetch thread.
        public var demandSeconds = 0.0
        public var bytesCopied = 0.0
        public var prefetchedRows = 0
        public var demandRows = 0
    }

    /// One `gather` call: which (layer, KV head) read how many cached rows (the query's
    /// own row excluded), how many of them were not prefetched (fetched on demand), and
    /// how long the engine waited.
    public struct RowRead: Sendable, Equatable {
        public var layer: Int
        public var kvHead: Int
        public var rows: Int
        public var demandRows: Int
        public var stallSeconds: Double
        public var prefetchedRows: Int { rows - demandRows }
    }

    let host: DenseKVStorage
    let kvHeads: Int
    let headDim: Int
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var pending: [Int: Job] = [:]           // (layer, head) key → job
    private var working: [Int: (FloatBuffer, FloatBuffer)] = [:]
    private var stats = Stats()
    private var rowLog: [RowRead] = []
    private var stopped = false
    /// Whether `gather` calls are logged (see `takeRowLog`); off by default.
    public var logsRows: Bool {
        get { condition.lock(); defer { condition.unlock() }; return logging }
        set { condition.lock(); logging = newValue; condition.unlock() }
    }
    private var logging = false

    final class Job: @unchecked Sendable {
        let key: Int, layer: Int, head: Int
        let positions: [Int32]
        var done = false
        init(key: Int, layer: Int, head: Int, positions: [Int32]) {
            self.key = key; self.layer = layer; self.head = head; self.positions = positions
        }
    }

    /// `prefetching: false` turns the store into demand fetching only (the engine then
    /// never asks for rows early): the baseline a prefetch is measured against.
    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int = 256, prefetching: Bool = true) {
        prefetches = prefetching
        host = DenseKVStorage(layers: layers, kvHeads: kvHeads, headDim: headDim, capacity: capacity)
        self.kvHeads = kvHeads
        self.headDim = headDim
        let t = Thread { [weak self] in self?.workerLoop() }
        t.name = "kv-prefetch"
        t.start()
    }

    deinit { stop() }

    /// Ends the prefetch thread (also done on deinit).
    public func stop() {
        condition.lock(); stopped = true; condition.broadcast(); condition.unlock()
    }

    public var capacity: Int { host.capacity }
    public var bytesPerTokenPerLayer: Double { host.bytesPerTokenPerLayer }
    public let prefetches: Bool

    public var measured: Stats {
        condition.lock(); defer { condition.unlock() }
        return stats
    }

    public func resetStats() {
        condition.lock(); stats = Stats(); condition.unlock()
    }

    /// The gathers logged since the last call, in call order (empty unless `logsRows`).
    public func takeRowLog() -> [RowRead] {
        condition.lock(); defer { condition.unlock() }
        let log = rowLog
        rowLog.removeAll(keepingCapacity: true)
        return log
    }

    public func reserve(_ n: Int) {
        // The host buffers may move: no copy may be in flight.
        condition.lock()
        while !queue.isEmpty || pending.values.contains(where: { !$0.done }) { condition.wait() }
        host.reserve(n)
        condition.unlock()
    }

    public func write(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        host.write(layer: layer, position: position, keys: keys, values: values)
    }

    public func dense(layer: Int, kvHead: Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>)? { nil }

    public func prefetch(layer: Int, kvHead: Int, positions: [Int32]) {
        let key = layer * kvHeads + kvHead
        let job = Job(key: key, layer: layer, head: kvHead, positions: positions)
        condition.lock()
        pending[key] = job
        queue.append(job)
        condition.broadcast()
        condition.unlock()
    }

    public func gather(layer: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                       keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        let key = layer * kvHeads + kvHead, d = headDim
        let cached = positions.count - 1          // the last row is the query's own
        condition.lock()
        let job = pending.removeValue(forKey: key)
        var waited = 0.0
        if let job {
            let start = DispatchTime.now().uptimeNanoseconds
            while !job.done { condition.wait() }
            waited = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            stats.stallSeconds += waited
        }
        let buffers = job == nil ? nil : working[key]
        condition.unlock()

        // Rows the prefetch brought come from the working buffer; any other row is fetched
        // from the pool now (on demand, a stall). The query's own row was written after
        // the prefetch started and is always local: it never counts as a fetch.
        let pool = host.dense(layer: layer, kvHead: kvHead)!
        func fromPool(_ j: Int) {
            let p = Int(positions[j])
            (keys + j * d).update(from: pool.keys + p * d, count: d)
            (values + j * d).update(from: pool.values + p * d, count: d)
        }
        var missing: [Int]? = nil                 // nil: every cached row
        if let job, let (wk, wv) = buffers {
            if job.positions.count == cached && job.positions.elementsEqual(positions.prefix(cached)) {
                keys.update(from: wk.pointer, count: cached * d)
                values.update(from: wv.pointer, count: cached * d)
                missing = []
            } else {
                var slot: [Int32: Int] = [:]
                slot.reserveCapacity(job.positions.count)
                for (i, p) in job.positions.enumerated() { slot[p] = i }
                var rest: [Int] = []
                for j in 0..<cached {
                    if let i = slot[positions[j]] {
                        (keys + j * d).update(from: wk.pointer + i * d, count: d)
                        (values + j * d).update(from: wv.pointer + i * d, count: d)
                    } else {
                        rest.append(j)
                    }
                }
                missing = rest
            }
        }
        fromPool(cached)
        let demand = missing?.count ?? cached
        let start = DispatchTime.now().uptimeNanoseconds, cpu = Self.threadCPUSeconds()
        if let missing { for j in missing { fromPool(j) } } else { for j in 0..<cached { fromPool(j) } }
        let seconds = demand > 0 ? Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 : 0
        let cpuSeconds = demand > 0 ? Self.threadCPUSeconds() - cpu : 0
        condition.lock()
        stats.stallSeconds += seconds
        stats.copySeconds += seconds
        stats.demandSeconds += seconds
        stats.copyCPUSeconds += cpuSeconds
        stats.demandCPUSeconds += cpuSeconds
        stats.demandRows += demand
        stats.bytesCopied += Double(demand * 2 * d * 4)
        if logging {
            rowLog.append(RowRead(layer: layer, kvHead: kvHead, rows: cached, demandRows: demand,
                                  stallSeconds: waited + seconds))
        }
        condition.unlock()
    }

    /// CPU time of the calling thread.
    public static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func workerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            let job = queue.removeFirst()
            let n = job.positions.count, d = headDim
            var buffers = working[job.key]
            if buffers == nil || buffers!.0.count < n * d {
                buffers = (FloatBuffer(count: max(n, 64) * 2 * d, zeroed: false), FloatBuffer(count: max(n, 64) * 2 * d, zeroed: false))
                working[job.key] = buffers
            }
            condition.unlock()
            let start = DispatchTime.now().uptimeNanoseconds, cpu = Self.threadCPUSeconds()
            job.positions.withUnsafeBufferPointer {
                host.gather(layer: job.layer, kvHead: job.head, positions: $0, keys: buffers!.0.pointer, values: buffers!.1.pointer)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let cpuSeconds = Self.threadCPUSeconds() - cpu
            condition.lock()
            job.done = true
            stats.copySeconds += seconds
            stats.copyCPUSeconds += cpuSeconds
            stats.prefetchedRows += n
            stats.bytesCopied += Double(n * 2 * d * 4)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Not supported: a copy would need its own prefetch thread and working buffers, and
    /// offloading runs decode one sequence from its prompt, so nothing forks there.
    public func fork() throws -> KVStorage {
        throw ModelError("two-tier KV storage cannot be forked (fork a sequence with dense or quantized storage)")
    }
}
