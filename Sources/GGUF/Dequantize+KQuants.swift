/// K-quants: 256-element super-blocks with per-sub-block scales (ggml-common.h layouts).
extension Dequantize {
    /// Scale and min of sub-block `j` (0..<8) from the 12-byte packed field of Q4_K/Q5_K:
    /// sub-blocks 0-3 use the low 6 bits of bytes j and j+4; sub-blocks 4-7 take their low
    /// 4 bits from byte j+4 and their top 2 bits from the spare high bits of bytes j-4 / j.
    @inline(__always)
    static func scaleMin(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (q[j] & 63, q[j + 4] & 63)
        }
        return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4),
                (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }

    /// block_q4_K (144 bytes): f16 d, f16 dmin, scales[12], qs[128]. Each 64-element chunk
    /// uses 32 bytes: low nibbles are its first 32 elements, high nibbles the next 32.
    static func q4_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 144
            let d = loadHalf(block, 0)
            let dmin = loadHalf(block, 2)
            let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
            var q = (block + 16).assumingMemoryBound(to: UInt8.self)
            var y = dst + b * 256
            for chunk in 0..<4 {
                let (sc1, m1) = scaleMin(2 * chunk, scales)
                let (sc2, m2) = scaleMin(2 * chunk + 1, scales)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0..<32 { y[l] = d1 * Float(q[l] & 0x0F) - min1 }
                for l in 0..<32 { y[32 + l] = d2 * Float(q[l] >> 4) - min2 }
                q += 32
                y += 64
            }
        }
    }

    /// block_q5_K (176 bytes): f16 d, f16 dmin, scales[12], qh[32], qs[128]. As Q4_K, plus a
    /// fifth bit per element: chunk c takes bit 2c of qh[l] for its first 32 elements and
    /// bit 2c+1 for the next 32.
    static func q5_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 176
            let d = loadHalf(block, 0)
            let dmin = loadHalf(block, 2)
            let scales = (block + 4).assumingMemoryBound(to: UInt8.self)
            let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
            var ql = (block + 48).assumingMemoryBound(to: UInt8.self)
            var y = dst + b * 256
            var u1: UInt8 = 1, u2: UInt8 = 2
            for chunk in 0..<4 {
                let (sc1, m1) = scaleMin(2 * chunk, scales)
                let (sc2, m2) = scaleMin(2 * chunk + 1, scales)
                let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                for l in 0..<32 {
                    let v = (ql[l] & 0x0F) + (qh[l] & u1 != 0 ? 16 : 0)
                    y[l] = d1 * Float(v) - min1
                }
                for l in 0..<32 {
                    let v = (ql[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)
                    y[32 + l] = d2 * Float(v) - min2
                }
                ql += 32
                y += 64
                u1 <<= 2
                u2 <<= 2
            }
        }
    }

    /// block_q6_K (210 bytes): ql[128] low nibbles, qh[64] high 2-bit pairs, int8 scales[16],
    /// f16 d. Each 128-element half uses 64 ql bytes, 32 qh bytes and 8 scales; element l of
    /// its four 32-element quarters takes qh[l] bits 0-1, 2-3, 4-5, 6-7. y = d * scale * (q - 32).
    static func q6_K(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 210
            var ql = block.assumingMemoryBound(to: UInt8.self)
            var qh = (block + 128).assumingMemoryBound(to: UInt8.self)
            var sc = (block + 192).assumingMemoryBound(to: Int8.self)
            let d = loadHalf(block, 208)
            var y = dst + b * 256
            for _ in 0..<2 {
                for l in 0..<32 {
                    let s = l / 16
                    let h = Int32(qh[l])
                    let q1 = (Int32(ql[l] & 0x0F) | ((h & 3) << 4)) - 32
                    let q2 = (Int32(ql[l + 32] & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = (Int32(ql[l] >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = (Int32(ql[l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32
                    y[l] = d * Float(sc[s]) * Float(q1)
                    y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                    y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                    y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
                }
                y += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }
}
