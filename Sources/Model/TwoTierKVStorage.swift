import Foundation
import Numerics

/// A real two-tier KV cache on one machine: the cache lives in a host pool, and a
/// prefetch thread copies (gathers) exactly the rows a policy will read into a compact
/// working buffer while the engine computes on the other core — the CPU-side stand-in
/// for an offloading system's host-to-device transfer. Attention reads only the working
/// buffer (plus the query's own, just-written row).
///
/// It measures what the offload simulator predicts: time the engine waits for a
/// prefetch (stall), time the prefetch thread spends copying, bytes copied, and rows
/// fetched on demand when nothing was prefetched.
public final class TwoTierKVStorage: KVStorage, @unchecked Sendable {
    public struct Stats: Sendable {
        public var stallSeconds = 0.0
        public var copySeconds = 0.0
        public var bytesCopied = 0.0
        public var prefetchedRows = 0
        public var demandRows = 0
    }

    /// One `gather` call: which (layer, KV head) read how many cached rows (the query's
    /// own row excluded), whether they had been prefetched, and how long the engine waited.
    public struct RowRead: Sendable, Equatable {
        public var layer: Int
        public var kvHead: Int
        public var rows: Int
        public var prefetched: Bool
        public var stallSeconds: Double
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

    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int = 256) {
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
    public var prefetches: Bool { true }

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
        condition.lock()
        if let job = pending[key], job.positions.count == positions.count - 1,
           job.positions.elementsEqual(positions.dropLast()) {
            let start = DispatchTime.now().uptimeNanoseconds
            while !job.done { condition.wait() }
            let waited = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            stats.stallSeconds += waited
            if logging { rowLog.append(RowRead(layer: layer, kvHead: kvHead, rows: job.positions.count, prefetched: true, stallSeconds: waited)) }
            pending[key] = nil
            let (wk, wv) = working[key]!
            condition.unlock()
            let n = job.positions.count
            keys.update(from: wk.pointer, count: n * d)
            values.update(from: wv.pointer, count: n * d)
            // The query's own row was written after the prefetch started.
            let own = UnsafeBufferPointer(rebasing: positions[(positions.count - 1)...])
            host.gather(layer: layer, kvHead: kvHead, positions: own, keys: keys + n * d, values: values + n * d)
            return
        }
        // Nothing (matching) was prefetched: fetch on demand, and count it as a stall.
        pending[key] = nil
        condition.unlock()
        let start = DispatchTime.now().uptimeNanoseconds
        host.gather(layer: layer, kvHead: kvHead, positions: positions, keys: keys, values: values)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        condition.lock()
        stats.stallSeconds += seconds
        stats.copySeconds += seconds
        stats.demandRows += positions.count - 1
        stats.bytesCopied += Double((positions.count - 1) * 2 * d * 4)
        if logging { rowLog.append(RowRead(layer: layer, kvHead: kvHead, rows: positions.count - 1, prefetched: false, stallSeconds: seconds)) }
        condition.unlock()
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
            let start = DispatchTime.now().uptimeNanoseconds
            job.positions.withUnsafeBufferPointer {
                host.gather(layer: job.layer, kvHead: job.head, positions: $0, keys: buffers!.0.pointer, values: buffers!.1.pointer)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            condition.lock()
            job.done = true
            stats.copySeconds += seconds
            stats.prefetchedRows += n
            stats.bytesCopied += Double(n * 2 * d * 4)
            condition.broadcast()
            condition.unlock()
        }
    }
}
