/// Converts ggml-encoded data to Float32, following ggml's `dequantize_row_*` exactly
/// (same block layouts, same element order, same arithmetic order).
public enum Dequantize {
    public static let supportedTypes: [GGMLType] = [
        .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K,
    ]

    public static func supports(_ type: GGMLType) -> Bool { supportedTypes.contains(type) }

    /// Decodes `count` elements (a multiple of the type's block size) starting at `src`, which
    /// must hold `count / blockElements * blockBytes` readable bytes.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, count: Int,
                           into dst: UnsafeMutablePointer<Float>) throws {
        guard count >= 0, count % type.blockElements == 0 else {
            throw GGUFError(.invalidArgument, "Dequantize: \(count) elements is not a multiple of the \(type) block size \(type.blockElements)")
        }
        let blocks = count / type.blockElements
        switch type {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16: f16(src, count, dst)
        case .bf16: bf16(src, count, dst)
        case .q8_0: q8_0(src, blocks, dst)
        case .q4_0: q4_0(src, blocks, dst)
        case .q4_1: q4_1(src, blocks, dst)
        case .q5_0: q5_0(src, blocks, dst)
        case .q5_1: q5_1(src, blocks, dst)
        case .q4_K: q4_K(src, blocks, dst)
        case .q5_K: q5_K(src, blocks, dst)
        case .q6_K: q6_K(src, blocks, dst)
        default:
            throw GGUFError(.unsupported, "Dequantize: \(type) is not supported (supported: \(supportedTypes.map(\.name).joined(separator: ", ")))")
        }
    }

    private static func f16(_ src: UnsafeRawPointer, _ count: Int, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count { y[i] = loadHalf(src, 2 * i) }
    }

    private static func bf16(_ src: UnsafeRawPointer, _ count: Int, _ y: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            y[i] = bfloat16ToFloat(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    }

    /// block_q8_0: f16 d, int8 qs[32]; y = q * d.
    private static func q8_0(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 34
            let d = loadHalf(block, 0)
            let qs = (block + 2).assumingMemoryBound(to: Int8.self)
            let y = dst + b * 32
            for j in 0..<32 { y[j] = Float(qs[j]) * d }
        }
    }

    /// block_q4_0: f16 d, 16 bytes; low nibbles are elements 0-15, high nibbles 16-31;
    /// y = (q - 8) * d.
    private static func q4_0(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 18
            let d = loadHalf(block, 0)
            let qs = (block + 2).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                let v = Int32(qs[j])
                y[j] = Float((v & 0x0F) - 8) * d
                y[j + 16] = Float((v >> 4) - 8) * d
            }
        }
    }

    /// block_q4_1: f16 d, f16 m, 16 bytes (same nibble order as q4_0); y = q * d + m.
    private static func q4_1(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 20
            let d = loadHalf(block, 0)
            let m = loadHalf(block, 2)
            let qs = (block + 4).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                let v = Int32(qs[j])
                y[j] = Float(v & 0x0F) * d + m
                y[j + 16] = Float(v >> 4) * d + m
            }
        }
    }

    /// Fifth bits of element j (bit j of qh) and j + 16 (bit j + 16), moved to bit 4.
    @inline(__always)
    private static func highBits(_ qh: UInt32, _ j: Int) -> (Int32, Int32) {
        (Int32(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10),
         Int32(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10))
    }

    /// block_q5_0: f16 d, u32 qh, 16 bytes; y = (q - 16) * d with q 5 bits.
    private static func q5_0(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 22
            let d = loadHalf(block, 0)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            let qs = (block + 6).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                let v = Int32(qs[j])
                let (h0, h1) = highBits(qh, j)
                y[j] = Float(((v & 0x0F) | h0) - 16) * d
                y[j + 16] = Float(((v >> 4) | h1) - 16) * d
            }
        }
    }

    /// block_q5_1: f16 d, f16 m, u32 qh, 16 bytes; y = q * d + m with q 5 bits.
    private static func q5_1(_ src: UnsafeRawPointer, _ blocks: Int, _ dst: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let block = src + b * 24
            let d = loadHalf(block, 0)
            let m = loadHalf(block, 2)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            let qs = (block + 8).assumingMemoryBound(to: UInt8.self)
            let y = dst + b * 32
            for j in 0..<16 {
                let v = Int32(qs[j])
                let (h0, h1) = highBits(qh, j)
                y[j] = Float((v & 0x0F) | h0) * d + m
                y[j + 16] = Float((v >> 4) | h1) * d + m
            }
        }
    }
}
