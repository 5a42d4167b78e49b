import Foundation

/// Element-wise kernels the forward pass needs, written with SIMD types so that they
/// compile to AVX2/FMA (the package builds with `-target-cpu haswell`).
public enum Kernels {
    /// out = x / rms(x) * weight, over `n` values.
    @inline(__always)
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               out: UnsafeMutablePointer<Float>, n: Int, eps: Float) {
        let ss = dot(x, x, n)
        let scale = 1 / (ss / Float(n) + eps).squareRoot()
        var i = 0
        let s8 = SIMD8<Float>(repeating: scale)
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let w = UnsafeRawPointer(weight + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v * s8 * w, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { out[i] = x[i] * scale * weight[i]; i += 1 }
    }

    /// Σ a[i]·b[i] with eight independent accumulators (FMA).
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= n {
            let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            let a1 = UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            let b1 = UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            acc0.addProduct(a0, b0)
            acc1.addProduct(a1, b1)
            i += 16
        }
        if i + 8 <= n {
            acc0.addProduct(UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self),
                            UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self))
            i += 8
        }
        var s = (acc0 + acc1).sum()
        while i < n { s += a[i] * b[i]; i += 1 }
        return s
    }

    /// y += a · x over n values.
    @inline(__always)
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            var yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            yv.addProduct(av, UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += a * x[i]; i += 1 }
    }

    /// x += y over n values (residual connection).
    @inline(__always)
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 8 <= n {
            let s = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                + UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(x + i).storeBytes(of: s, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { x[i] += y[i]; i += 1 }
    }

    /// In-place softmax over n values; returns log Σ exp (the log-partition) for callers
    /// that need log-probabilities.
    @discardableResult
    public static func softmax(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        guard n > 0 else { return -.infinity }
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        var s: Float = 0
        for i in 0..<n { let e = expf(x[i] - m); x[i] = e; s += e }
        let inv = 1 / s
        for i in 0..<n { x[i] *= inv }
        return m + logf(s)
    }

    /// log Σ exp(x), computed stably in Double (used for log-probabilities over the vocabulary).
    public static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        var s: Double = 0
        for i in 0..<n { s += Double(expf(x[i] - m)) }
        return Double(m) + log(s)
    }

    /// SwiGLU: gate = silu(gate) * up, in place in `gate`.
    @inline(__always)
    public static func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n {
            let g = gate[i]
            gate[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// Rotary embedding in GGUF's interleaved layout: adjacent pairs (2i, 2i+1) rotate by
    /// position · θ_i, θ_i = base^(-2i/d). `table` holds (cos, sin) for the position.
    @inline(__always)
    public static func rope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int,
                            cosSin: UnsafePointer<Float>) {
        let half = headDim / 2
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<half {
                let c = cosSin[2 * i], s = cosSin[2 * i + 1]
                let a = v[2 * i], b = v[2 * i + 1]
                v[2 * i] = a * c - b * s
                v[2 * i + 1] = a * s + b * c
            }
        }
    }

    public static func argmax(_ x: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<max(n, 1) where x[i] > x[best] { best = i }
        return best
    }
}

extension Kernels {
    /// The k-th largest of x[0..<n] (k in 1...n), by quickselect; reorders x.
    public static func kthLargest(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ k: Int) -> Float {
        precondition(k >= 1 && k <= n)
        var lo = 0, hi = n - 1
        let target = k - 1                      // index in descending order
        while lo < hi {
            let pivot = x[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while x[i] > pivot { i += 1 }
                while x[j] < pivot { j -= 1 }
                if i <= j { let t = x[i]; x[i] = x[j]; x[j] = t; i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { return x[target] }
        }
        return x[target]
    }
}
