import Dispatch

/// Splits work across the engine's threads. One knob (`threads`) for the whole program;
/// OpenBLAS gets the same number through `BLASRuntime.setThreads`.
public enum Parallel {
    nonisolated(unsafe) public static var threads: Int = 1

    /// The kernels hand raw pointers to worker threads; each chunk writes a disjoint range,
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
            DispatchQueue.concurrentPerform(iterations: t) { i in
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
            DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
        }
    }
}
