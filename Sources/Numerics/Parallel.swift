/// Splits work across the engine's threads. One knob (`threads`) for the whole program;
/// OpenBLAS gets the same number through `BLASRuntime.setThreads`.
public enum Parallel {
    nonisolated(unsafe) private static var pool: WorkerPool?

    /// Threads for the engine's own kernels (the caller counts as one).
    nonisolated(unsafe) public static var threads: Int = 1 {
        didSet { threads = max(1, threads) }
    }

    private static func currentPool() -> WorkerPool {
        if let p = pool, p.size == threads { return p }
        let p = WorkerPool(threads: threads)    // a replaced pool's workers go to sleep
        pool = p
        return p
    }

    /// Puts the workers to sleep before OpenBLAS starts its own threads.
    @inline(__always)
    public static func park() { pool?.park() }

    /// The kernels hand raw pointers to worker threads; each task writes a disjoint range,
    /// which is what makes this sound.
    private struct Unchecked<T>: @unchecked Sendable { let value: T }

    /// Runs `body(start, end)` over `0..<n` split into `threads` contiguous chunks, each
    /// a multiple of `granule` (except the last).
    @inline(__always)
    public static func chunks(_ n: Int, granule: Int = 1, _ body: (Int, Int) -> Void) {
        let t = min(threads, max(1, n / max(granule, 1)))
        if t <= 1 { body(0, n); return }
        let per = ((n + t - 1) / t + granule - 1) / granule * granule
        withoutActuallyEscaping(body) { escaping in
            let box = Unchecked(value: escaping)
            currentPool().run(t) { i in
                let s = i * per, e = min(n, s + per)
                if s < e { box.value(s, e) }
            }
        }
    }

    /// Runs `body(i)` for i in 0..<n across threads (dynamic assignment).
    @inline(__always)
    public static func forEach(_ n: Int, _ body: (Int) -> Void) {
        if threads <= 1 || n <= 1 { for i in 0..<n { body(i) }; return }
        withoutActuallyEscaping(body) { escaping in
            let box = Unchecked(value: escaping)
            currentPool().run(n) { box.value($0) }
        }
    }
}
