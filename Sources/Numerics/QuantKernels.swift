/// Matrix-vector kernels that read GGUF's compressed blocks directly.
///
/// Q4_1 block (20 bytes, 32 weights): f16 d, f16 m, 16 bytes of nibbles; weight j is
/// d·(qs[j] & 15) + m and weight j+16 is d·(qs[j] >> 4) + m. So a block's dot product
/// with x is d·Σ q·x + m·Σ x, and Σ x per block is computed once per vector.
/// Q8_0 block (34 bytes, 32 weights): f16 d, 32 × i8; weight = d·q.
public enum QuantKernels {
    /// Largest batch the fused kernels handle; beyond it sgemm on f32 is faster.
    public static let maxFusedBatch = 4

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    static func nibbles(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let q = p.loadUnaligned(as: SIMD16<UInt8>.self)
        let lo = SIMD16<Int32>(truncatingIfNeeded: q & 0x0F)
        let hi = SIMD16<Int32>(truncatingIfNeeded: q &>> 4)
        return (SIMD16<Float>(lo), SIMD16<Float>(hi))
    }

    @inline(__always)
    static func bytes(_ p: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let q0 = p.loadUnaligned(as: SIMD16<Int8>.self)
        let q1 = p.loadUnaligned(fromByteOffset: 16, as: SIMD16<Int8>.self)
        return (SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q0)),
                SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q1)))
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func blockSums(_ x: UnsafePointer<Float>, _ nb: Int, _ out: UnsafeMutablePointer<Float>) {
        for b in 0..<nb { out[b] = (load16(x + 32 * b) + load16(x + 32 * b + 16)).sum() }
    }

    public static func gemvQ4_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let nb = cols / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: nb) { sums in
            let xs = sums.baseAddress!
            blockSums(x, nb, xs)
            for r in 0..<rows {
                let row = w + r * rowBytes
                var acc = SIMD16<Float>()
                var macc: Float = 0
                for b in 0..<nb {
                    let blk = row + 20 * b
                    let d = half(blk, 0), m = half(blk, 2)
                    let (lo, hi) = nibbles(blk + 4)
                    var t = lo * load16(x + 32 * b)
                    t.addProduct(hi, load16(x + 32 * b + 16))
                    acc.addProduct(SIMD16(repeating: d), t)
                    macc += m * xs[b]
                }
                y[r] = acc.sum() + macc
            }
        }
    }

    public static func gemvQ8_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let nb = cols / 32
        for r in 0..<rows {
            let row = w + r * rowBytes
            var acc = SIMD16<Float>()
            for b in 0..<nb {
                let blk = row + 34 * b
                let d = half(blk, 0)
                let (q0, q1) = bytes(blk + 2)
                var t = q0 * load16(x + 32 * b)
                t.addProduct(q1, load16(x + 32 * b + 16))
                acc.addProduct(SIMD16(repeating: d), t)
            }
            y[r] = acc.sum()
        }
    }

    /// Y[i, r] = W[r] · X[i] for i < m (m ≤ maxFusedBatch): each block is decoded once
    /// and used for every vector. `y` has row stride `ldy`.
    public static func gemmQ4_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: nb * m) { sums in
            let xs = sums.baseAddress!
            for i in 0..<m { blockSums(x + i * cols, nb, xs + i * nb) }
            for r in 0..<rows {
                let row = w + r * rowBytes
                var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                var macc = SIMD4<Float>()
                for b in 0..<nb {
                    let blk = row + 20 * b
                    let d = half(blk, 0), mm = half(blk, 2)
                    var (lo, hi) = nibbles(blk + 4)
                    lo *= d; hi *= d
                    let o = 32 * b
                    acc.0.addProduct(lo, load16(x + o)); acc.0.addProduct(hi, load16(x + o + 16))
                    macc[0] += mm * xs[b]
                    if m > 1 {
                        acc.1.addProduct(lo, load16(x + cols + o)); acc.1.addProduct(hi, load16(x + cols + o + 16))
                        macc[1] += mm * xs[nb + b]
                    }
                    if m > 2 {
                        acc.2.addProduct(lo, load16(x + 2 * cols + o)); acc.2.addProduct(hi, load16(x + 2 * cols + o + 16))
                        macc[2] += mm * xs[2 * nb + b]
                    }
                    if m > 3 {
                        acc.3.addProduct(lo, load16(x + 3 * cols + o)); acc.3.addProduct(hi, load16(x + 3 * cols + o + 16))
                        macc[3] += mm * xs[3 * nb + b]
                    }
                }
                y[r] = acc.0.sum() + macc[0]
                if m > 1 { y[ldy + r] = acc.1.sum() + macc[1] }
                if m > 2 { y[2 * ldy + r] = acc.2.sum() + macc[2] }
                if m > 3 { y[3 * ldy + r] = acc.3.sum() + macc[3] }
            }
        }
    }

    public static func gemmQ8_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        for r in 0..<rows {
            let row = w + r * rowBytes
            var acc = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
            for b in 0..<nb {
                let blk = row + 34 * b
                let d = half(blk, 0)
                var (q0, q1) = bytes(blk + 2)
                q0 *= d; q1 *= d
                let o = 32 * b
                acc.0.addProduct(q0, load16(x + o)); acc.0.addProduct(q1, load16(x + o + 16))
                if m > 1 { acc.1.addProduct(q0, load16(x + cols + o)); acc.1.addProduct(q1, load16(x + cols + o + 16)) }
                if m > 2 { acc.2.addProduct(q0, load16(x + 2 * cols + o)); acc.2.addProduct(q1, load16(x + 2 * cols + o + 16)) }
                if m > 3 { acc.3.addProduct(q0, load16(x + 3 * cols + o)); acc.3.addProduct(q1, load16(x + 3 * cols + o + 16)) }
            }
            y[r] = acc.0.sum()
            if m > 1 { y[ldy + r] = acc.1.sum() }
            if m > 2 { y[2 * ldy + r] = acc.2.sum() }
            if m > 3 { y[3 * ldy + r] = acc.3.sum() }
        }
    }

    /// Widens compressed rows to f32 (used once at load for the sgemm copy).
    public static func dequantize(_ format: WeightFormat, _ w: UnsafeRawPointer, count: Int,
                                  into out: UnsafeMutablePointer<Float>) {
        switch format {
        case .f32:
            out.update(from: w.assumingMemoryBound(to: Float.self), count: count)
        case .q4_1:
            for b in 0..<(count / 32) {
                let blk = w + 20 * b
                let d = half(blk, 0), m = half(blk, 2)
                let (lo, hi) = nibbles(blk + 4)
                let o = UnsafeMutableRawPointer(out + 32 * b)
                o.storeBytes(of: lo * d + m, as: SIMD16<Float>.self)
                o.storeBytes(of: hi * d + m, toByteOffset: 64, as: SIMD16<Float>.self)
            }
        case .q8_0:
            for b in 0..<(count / 32) {
                let blk = w + 34 * b
                let d = half(blk, 0)
                let (q0, q1) = bytes(blk + 2)
                let o = UnsafeMutableRawPointer(out + 32 * b)
                o.storeBytes(of: q0 * d, as: SIMD16<Float>.self)
                o.storeBytes(of: q1 * d, toByteOffset: 64, as: SIMD16<Float>.self)
            }
        }
    }
}
