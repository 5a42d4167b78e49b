/// Matrix-vector kernels that read GGUF's compressed blocks directly.
///
/// Q4_1 block (20 bytes, 32 weights): f16 d, f16 m, 16 bytes of nibbles; weight j is
/// d·(qs[j] & 15) + m and weight j+16 is d·(qs[j] >> 4) + m.
/// Q8_0 block (34 bytes, 32 weights): f16 d, 32 × i8; weight = d·q.
///
/// Widening bytes lane by lane needs shuffles that Swift's SIMD types only offer through
/// generic initialisers the optimiser does not inline. Instead the kernels read the
/// quantized bytes as 32-bit words and pull byte k of every word out with a shift and a
/// mask, which yields the weights in a fixed permuted order; `x` is permuted the same way
/// once per call, so the inner loop is nothing but shifts, masks and FMAs.
public enum QuantKernels {
    /// Vectors per pass of the fused batched kernels (their register budget).
    static let group = 4
    /// Largest batch the fused kernels take; beyond it sgemm on the f32 copy is faster.
    public static let maxFusedBatch = 16

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// 2^23 + x has x in its mantissa: OR the exponent in, subtract 2^23 (exact, x < 2^23).
    @inline(__always)
    static func unsignedToFloat(_ v: SIMD8<UInt32>) -> SIMD8<Float> {
        unsafeBitCast(v | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_608
    }

    /// Byte k (0...3) of each word, sign-extended, as Float: 1.5·2^23 + x for |x| < 2^22.
    @inline(__always)
    static func signedByte(_ w: SIMD8<UInt32>, _ k: UInt32) -> SIMD8<Float> {
        let s = unsafeBitCast(w &<< (24 - 8 * k), to: SIMD8<Int32>.self) &>> 24
        return unsafeBitCast(s &+ 0x4B40_0000, to: SIMD8<Float>.self) - 12_582_912
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    // MARK: - Q4_1

    /// Q4_1 works on block pairs: the 4 words of block A fill lanes 0-3 and those of block B
    /// lanes 4-7. Vector v (0...7) holds nibble (v / 4 == 0 ? low : high) of byte k = v % 4
    /// of each word: lane l is weight 32·blk + 16·(v/4) + 4·(l%4) + v%4 of block A (l < 4)
    /// or B.
    @inline(__always)
    static func permuteQ4_1(_ x: UnsafePointer<Float>, cols: Int, into xp: UnsafeMutablePointer<Float>) {
        let pairs = cols / 64
        for p in 0..<pairs {
            for v in 0..<8 {
                for l in 0..<8 {
                    let blk = 2 * p + l / 4
                    xp[64 * p + 8 * v + l] = x[32 * blk + 16 * (v / 4) + 4 * (l % 4) + v % 4]
                }
            }
        }
        // An odd last block stays in natural order (scalar tail).
        for j in (64 * pairs)..<cols { xp[j] = x[j] }
    }

    /// The 64 weights of a block pair, dequantized (d·level + m) as eight vectors in the
    /// permuted layout above.
    struct PairQ4_1 {
        var w: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

        @inline(__always)
        init(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer) {
            let word = SIMD8<UInt32>(lowHalf: a.loadUnaligned(fromByteOffset: 4, as: SIMD4<UInt32>.self),
                                     highHalf: b.loadUnaligned(fromByteOffset: 4, as: SIMD4<UInt32>.self))
            let d = SIMD8<Float>(lowHalf: SIMD4(repeating: half(a, 0)), highHalf: SIMD4(repeating: half(b, 0)))
            let m = SIMD8<Float>(lowHalf: SIMD4(repeating: half(a, 2)), highHalf: SIMD4(repeating: half(b, 2)))
            @inline(__always) func level(_ s: UInt32) -> SIMD8<Float> {
                var v = unsignedToFloat((word &>> s) & 0x0F)
                v = v * d + m
                return v
            }
            w = (level(0), level(8), level(16), level(24), level(4), level(12), level(20), level(28))
        }

        @inline(__always)
        func dot(_ xp: UnsafePointer<Float>, _ acc: inout SIMD8<Float>) {
            acc.addProduct(w.0, load8(xp)); acc.addProduct(w.1, load8(xp + 8))
            acc.addProduct(w.2, load8(xp + 16)); acc.addProduct(w.3, load8(xp + 24))
            acc.addProduct(w.4, load8(xp + 32)); acc.addProduct(w.5, load8(xp + 40))
            acc.addProduct(w.6, load8(xp + 48)); acc.addProduct(w.7, load8(xp + 56))
        }
    }

    /// An odd last block, in natural order.
    @inline(__always)
    static func tailQ4_1(_ blk: UnsafeRawPointer, _ x: UnsafePointer<Float>) -> Float {
        let d = half(blk, 0), m = half(blk, 2)
        var s: Float = 0
        for j in 0..<16 {
            let q = blk.load(fromByteOffset: 4 + j, as: UInt8.self)
            s += (d * Float(q & 15) + m) * x[j] + (d * Float(q >> 4) + m) * x[j + 16]
        }
        return s
    }

    public static func gemvQ4_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        gemmQ4_1(w, rowBytes: rowBytes, rows: rows, cols: cols, x: x, m: 1, y: y, ldy: rows)
    }

    /// Y[i, r] = W[r] · X[i] for i < m (m ≤ maxFusedBatch); `y` has row stride `ldy`.
    /// Each row is decoded once per group of four vectors while it sits in L1.
    public static func gemmQ4_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32, pairs = nb / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m * cols) { scratch in
            let xp = scratch.baseAddress!
            for i in 0..<m { permuteQ4_1(x + i * cols, cols: cols, into: xp + i * cols) }
            let first = eightAtATime(xp, m: m, cols: cols) { p8, i, valid in
                gemm8Q4_1(w, rowBytes: rowBytes, rows: rows, cols: cols, xp: p8, y: y + i * ldy, ldy: ldy, valid: valid)
            }
            for r in 0..<rows {
                let row = w + r * rowBytes
                var g = first
                while g < m {
                    let n = min(group, m - g)
                    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                    for p in 0..<pairs {
                        let ba = row + 40 * p, bb = ba + 20
                        let o = 64 * p
                        let pair = PairQ4_1(ba, bb)
                        pair.dot(xp + g * cols + o, &a0)
                        if n > 1 { pair.dot(xp + (g + 1) * cols + o, &a1) }
                        if n > 2 { pair.dot(xp + (g + 2) * cols + o, &a2) }
                        if n > 3 { pair.dot(xp + (g + 3) * cols + o, &a3) }
                    }
                    var sums = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
                    for i in 0..<n {
                        let xi = g + i
                        if nb % 2 == 1 { sums[i] += tailQ4_1(row + 20 * (nb - 1), xp + xi * cols + 32 * (nb - 1)) }
                        y[xi * ldy + r] = sums[i]
                    }
                    g += n
                }
            }
        }
    }

    /// Eight vectors at once: each block pair is decoded once, pre-scaled by d, and fed to
    /// eight accumulators (8 accumulators + 4 levels + 1 temporary fit the 16 AVX registers).
    static func gemm8Q4_1(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                          xp: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                          ldy: Int, valid: Int) {
        let nb = cols / 32, pairs = nb / 2
        for r in 0..<rows {
            let row = w + r * rowBytes
            var a = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                     SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for p in 0..<pairs {
                let ba = row + 40 * p, bb = ba + 20
                let word = SIMD8<UInt32>(lowHalf: ba.loadUnaligned(fromByteOffset: 4, as: SIMD4<UInt32>.self),
                                         highHalf: bb.loadUnaligned(fromByteOffset: 4, as: SIMD4<UInt32>.self))
                let d = SIMD8<Float>(lowHalf: SIMD4(repeating: half(ba, 0)), highHalf: SIMD4(repeating: half(bb, 0)))
                let mm = SIMD8<Float>(lowHalf: SIMD4(repeating: half(ba, 2)), highHalf: SIMD4(repeating: half(bb, 2)))
                let mask = SIMD8<UInt32>(repeating: 0x0F)
                for part in 0..<2 {
                    let s = UInt32(4 * part)
                    let q0 = unsignedToFloat((word &>> s) & mask) * d + mm
                    let q1 = unsignedToFloat((word &>> (s + 8)) & mask) * d + mm
                    let q2 = unsignedToFloat((word &>> (s + 16)) & mask) * d + mm
                    let q3 = unsignedToFloat((word &>> (s + 24)) & mask) * d + mm
                    let o = 64 * p + 32 * part
                    @inline(__always) func f(_ acc: inout SIMD8<Float>, _ i: Int) {
                        let x = xp + i * cols + o
                        acc.addProduct(q0, load8(x)); acc.addProduct(q1, load8(x + 8))
                        acc.addProduct(q2, load8(x + 16)); acc.addProduct(q3, load8(x + 24))
                    }
                    f(&a.0, 0); f(&a.1, 1); f(&a.2, 2); f(&a.3, 3)
                    f(&a.4, 4); f(&a.5, 5); f(&a.6, 6); f(&a.7, 7)
                }
            }
            let sums = [a.0.sum(), a.1.sum(), a.2.sum(), a.3.sum(), a.4.sum(), a.5.sum(), a.6.sum(), a.7.sum()]
            for i in 0..<valid {
                var total = sums[i]
                if nb % 2 == 1 { total += tailQ4_1(row + 20 * (nb - 1), xp + i * cols + 32 * (nb - 1)) }
                y[i * ldy + r] = total
            }
        }
    }

    static func gemm8Q8_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                          xp: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, valid: Int) {
        let nb = cols / 32
        for r in 0..<rows {
            let row = w + r * rowBytes
            var a = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(),
                     SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for b in 0..<nb {
                let q = blockQ8_0(row + 34 * b), o = 32 * b
                dotQ8_0(q, xp + o, &a.0); dotQ8_0(q, xp + cols + o, &a.1)
                dotQ8_0(q, xp + 2 * cols + o, &a.2); dotQ8_0(q, xp + 3 * cols + o, &a.3)
                dotQ8_0(q, xp + 4 * cols + o, &a.4); dotQ8_0(q, xp + 5 * cols + o, &a.5)
                dotQ8_0(q, xp + 6 * cols + o, &a.6); dotQ8_0(q, xp + 7 * cols + o, &a.7)
            }
            let sums = [a.0.sum(), a.1.sum(), a.2.sum(), a.3.sum(), a.4.sum(), a.5.sum(), a.6.sum(), a.7.sum()]
            for i in 0..<valid { y[i * ldy + r] = sums[i] }
        }
    }

    /// Hands permuted vectors to an eight-wide kernel, eight at a time while more than a
    /// four-group remains (the last eight zero-padded): `body(vectors, first, valid)`.
    /// Returns the index of the first vector left for the four-wide path.
    @inline(__always)
    static func eightAtATime(_ xp: UnsafePointer<Float>, m: Int, cols: Int,
                             _ body: (UnsafePointer<Float>, Int, Int) -> Void) -> Int {
        var first = 0
        while m - first > group {
            let valid = min(8, m - first)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * cols) { pad in
                let p8 = pad.baseAddress!
                p8.update(from: xp + first * cols, count: valid * cols)
                (p8 + valid * cols).update(repeating: 0, count: (8 - valid) * cols)
                body(p8, first, valid)
            }
            first += valid
        }
        return first
    }

    // MARK: - Q8_0

    /// Q8_0: the block's 8 words fill the 8 lanes; vector k (0...3) holds byte k of each
    /// word, i.e. lane l is weight 4·l + k.
    @inline(__always)
    static func permuteQ8_0(_ x: UnsafePointer<Float>, cols: Int, into xp: UnsafeMutablePointer<Float>) {
        for b in 0..<(cols / 32) {
            for k in 0..<4 { for l in 0..<8 { xp[32 * b + 8 * k + l] = x[32 * b + 4 * l + k] } }
        }
    }

    /// One block's 32 levels as four vectors (layout above), pre-multiplied by d.
    @inline(__always)
    static func blockQ8_0(_ blk: UnsafeRawPointer) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
        let w = blk.loadUnaligned(fromByteOffset: 2, as: SIMD8<UInt32>.self)
        let d = SIMD8<Float>(repeating: half(blk, 0))
        return (signedByte(w, 0) * d, signedByte(w, 1) * d, signedByte(w, 2) * d, signedByte(w, 3) * d)
    }

    @inline(__always)
    static func dotQ8_0(_ q: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>), _ xp: UnsafePointer<Float>,
                        _ acc: inout SIMD8<Float>) {
        acc.addProduct(q.0, load8(xp))
        acc.addProduct(q.1, load8(xp + 8))
        acc.addProduct(q.2, load8(xp + 16))
        acc.addProduct(q.3, load8(xp + 24))
    }

    public static func gemvQ8_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        gemmQ8_0(w, rowBytes: rowBytes, rows: rows, cols: cols, x: x, m: 1, y: y, ldy: rows)
    }

    public static func gemmQ8_0(_ w: UnsafeRawPointer, rowBytes: Int, rows: Int, cols: Int,
                                x: UnsafePointer<Float>, m: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
        let nb = cols / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: m * cols) { scratch in
            let xp = scratch.baseAddress!
            for i in 0..<m { permuteQ8_0(x + i * cols, cols: cols, into: xp + i * cols) }
            let first = eightAtATime(xp, m: m, cols: cols) { p8, i, valid in
                gemm8Q8_0(w, rowBytes: rowBytes, rows: rows, cols: cols, xp: p8, y: y + i * ldy, ldy: ldy, valid: valid)
            }
            for r in 0..<rows {
                let row = w + r * rowBytes
                var g = first
                while g < m {
                    let n = min(group, m - g)
                    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                    for b in 0..<nb {
                        let q = blockQ8_0(row + 34 * b), o = 32 * b
                        dotQ8_0(q, xp + g * cols + o, &a0)
                        if n > 1 { dotQ8_0(q, xp + (g + 1) * cols + o, &a1) }
                        if n > 2 { dotQ8_0(q, xp + (g + 2) * cols + o, &a2) }
                        if n > 3 { dotQ8_0(q, xp + (g + 3) * cols + o, &a3) }
                    }
                    let sums = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
                    for i in 0..<n { y[(g + i) * ldy + r] = sums[i] }
                    g += n
                }
            }
        }
    }

    // MARK: - Widening

    /// Widens compressed rows to f32 in natural order (once at load, for the sgemm copy).
    public static func dequantize(_ format: WeightFormat, _ w: UnsafeRawPointer, count: Int,
                                  into out: UnsafeMutablePointer<Float>) {
        switch format {
        case .f32:
            out.update(from: w.assumingMemoryBound(to: Float.self), count: count)
        case .q4_1:
            for b in 0..<(count / 32) {
                let blk = w + 20 * b
                let d = half(blk, 0), m = half(blk, 2)
                for j in 0..<16 {
                    let q = blk.load(fromByteOffset: 4 + j, as: UInt8.self)
                    out[32 * b + j] = d * Float(q & 15) + m
                    out[32 * b + j + 16] = d * Float(q >> 4) + m
                }
            }
        case .q8_0:
            for b in 0..<(count / 32) {
                let blk = w + 34 * b
                let d = half(blk, 0)
                for j in 0..<32 { out[32 * b + j] = d * Float(blk.load(fromByteOffset: 2 + j, as: Int8.self)) }
            }
        }
    }
}
