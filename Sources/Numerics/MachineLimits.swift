import Foundation

/// The two ceilings the engine is judged against: sgemm throughput (prefill is
/// compute-bound) and memory read bandwidth (decode streams every weight once per step).
public enum MachineLimits {
    /// GFLOP/s of C[m×n] = A[m×k]·B[n×k]ᵀ through the loaded OpenBLAS kernel, best of `repeats`.
    public static func sgemmGFLOPS(m: Int = 512, n: Int = 1536, k: Int = 576, repeats: Int = 5) -> Double {
        let a = FloatBuffer(count: m * k, zeroed: false), b = FloatBuffer(count: n * k, zeroed: false)
        let c = FloatBuffer(count: m * n)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<a.count { a[i] = Float.random(in: -1...1, using: &rng) }
        for i in 0..<b.count { b[i] = Float.random(in: -1...1, using: &rng) }
        BLAS.gemmABt(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: k, c: c.pointer, ldc: n)
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            BLAS.gemmABt(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: k, c: c.pointer, ldc: n)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }

    /// GB/s of summing a buffer much larger than the caches, split over `threads`, best of `repeats`.
    public static func readBandwidthGBs(bytes: Int = 512 << 20, threads: Int = Parallel.threads, repeats: Int = 4) -> Double {
        let n = bytes / 4
        let buf = FloatBuffer(count: n)
        for i in stride(from: 0, to: n, by: 1024) { buf[i] = 1 }
        let saved = Parallel.threads
        Parallel.threads = threads
        defer { Parallel.threads = saved }
        var best = Double.infinity
        var sink: Float = 0
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let partial = FloatBuffer(count: threads)
            let per = n / threads / 16 * 16
            Parallel.forEach(threads) { t in
                let s = t * per, e = t == threads - 1 ? n : s + per
                var acc = SIMD16<Float>()
                var i = s
                while i + 16 <= e {
                    acc += UnsafeRawPointer(buf.pointer + i).loadUnaligned(as: SIMD16<Float>.self)
                    i += 16
                }
                partial[t] = acc.sum()
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            sink += partial[0]
        }
        withExtendedLifetime(sink) {}
        return Double(n * 4) / best / 1e9
    }
}
