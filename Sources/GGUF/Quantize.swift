/// Float32 -> ggml encodings, matching ggml's reference `quantize_row_*_ref` (round to
/// nearest, no importance weighting), so files written here decode like llama.cpp's.
public enum Quantize {
    public static let supportedTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1]

    public static func supports(_ type: GGMLType) -> Bool { supportedTypes.contains(type) }

    /// Encodes `values` (a multiple of the type's block size) as `type`.
    public static func encode(_ values: [Float], as type: GGMLType) throws -> [UInt8] {
        guard values.count % type.blockElements == 0 else {
            throw GGUFError(.invalidArgument, "Quantize: \(values.count) values is not a multiple of the \(type) block size \(type.blockElements)")
        }
        let byteCount = values.count / type.blockElements * type.blockBytes
        var out = [UInt8](repeating: 0, count: byteCount)
        try values.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                try row(type, s, count: values.count, into: d)
            }
        }
        return out
    }

    /// Encodes `count` floats at `src` into `dst` (room for `count / blockElements * blockBytes`).
    public static func row(_ type: GGMLType, _ src: UnsafePointer<Float>, count: Int,
                           into dst: UnsafeMutableRawPointer) throws {
        guard count >= 0, count % type.blockElements == 0 else {
            throw GGUFError(.invalidArgument, "Quantize: \(count) values is not a multiple of the \(type) block size \(type.blockElements)")
        }
        guard supports(type) else {
            throw GGUFError(.unsupported, "Quantize: \(type) is not supported (supported: \(supportedTypes.map(\.name).joined(separator: ", ")))")
        }
        if type.blockElements > 1, let bad = (0..<count).first(where: { !src[$0].isFinite }) {
            throw GGUFError(.invalidArgument, "Quantize: value \(bad) is \(src[bad]); \(type) needs finite values")
        }
        let blocks = count / type.blockElements
        switch type {
        case .f32:
            dst.copyMemory(from: src, byteCount: count * 4)
        case .f16:
            for i in 0..<count { dst.storeBytes(of: halfBits(src[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<count { dst.storeBytes(of: bfloat16Bits(src[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        default:
            for b in 0..<blocks {
                let x = src + b * 32
                let y = dst + b * type.blockBytes
                switch type {
                case .q8_0: try q8_0(x, y, block: b)
                case .q4_0: try q4_0(x, y, block: b)
                case .q4_1: try q4_1(x, y, block: b)
                case .q5_0: try q5_0(x, y, block: b)
                case .q5_1: try q5_1(x, y, block: b)
                default: preconditionFailure("unreachable: \(type) is in supportedTypes")
                }
            }
        }
    }

    // MARK: Blocks of 32

    /// Truncates toward zero like C's float->int cast, clamped so odd inputs cannot trap.
    @inline(__always)
    private static func truncated(_ v: Float, _ lo: Int32, _ hi: Int32) -> Int32 {
        guard v >= Float(lo) else { return lo }
        guard v <= Float(hi) else { return hi }
        return Int32(v.rounded(.towardZero))
    }

    /// Stores a block scale as f16, refusing values f16 cannot represent.
    private static func storeScale(_ v: Float, _ y: UnsafeMutableRawPointer, at offset: Int,
                                   _ type: GGMLType, block: Int, _ what: String) throws {
        let bits = halfBits(v)
        guard Float16(bitPattern: bits).isFinite else {
            throw GGUFError(.invalidArgument, "Quantize: \(type) block \(block) \(what) \(v) overflows float16 (values too large)")
        }
        y.storeBytes(of: bits.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// The element of largest magnitude, with its sign (first one wins on ties, as in ggml).
    private static func signedAbsMax(_ x: UnsafePointer<Float>) -> Float {
        var amax: Float = 0, max: Float = 0
        for j in 0..<32 where amax < abs(x[j]) {
            amax = abs(x[j])
            max = x[j]
        }
        return max
    }

    private static func minMax(_ x: UnsafePointer<Float>) -> (Float, Float) {
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
        for j in 0..<32 {
            if x[j] < lo { lo = x[j] }
            if x[j] > hi { hi = x[j] }
        }
        return (lo, hi)
    }

    /// d = amax / 127, q = round(x / d).
    private static func q8_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, block: Int) throws {
        var amax: Float = 0
        for j in 0..<32 { amax = Swift.max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        try storeScale(d, y, at: 0, .q8_0, block: block, "scale")
        for j in 0..<32 {
            let q = truncated((x[j] * id).rounded(), -128, 127)
            y.storeBytes(of: Int8(q), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// d = max / -8 (max = signed value of largest magnitude), q = x / d + 8 in 0...15.
    private static func q4_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, block: Int) throws {
        let d = signedAbsMax(x) / -8
        let id: Float = d != 0 ? 1 / d : 0
        try storeScale(d, y, at: 0, .q4_0, block: block, "scale")
        for j in 0..<16 {
            let lo = truncated(x[j] * id + 8.5, 0, 15)
            let hi = truncated(x[j + 16] * id + 8.5, 0, 15)
            y.storeBytes(of: UInt8(lo) | UInt8(hi) << 4, toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    /// d = (max - min) / 15, m = min, q = (x - min) / d in 0...15.
    private static func q4_1(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, block: Int) throws {
        let (lo, hi) = minMax(x)
        let d = (hi - lo) / 15
        let id: Float = d != 0 ? 1 / d : 0
        try storeScale(d, y, at: 0, .q4_1, block: block, "scale")
        try storeScale(lo, y, at: 2, .q4_1, block: block, "minimum")
        for j in 0..<16 {
            let q0 = truncated((x[j] - lo) * id + 0.5, 0, 15)
            let q1 = truncated((x[j + 16] - lo) * id + 0.5, 0, 15)
            y.storeBytes(of: UInt8(q0) | UInt8(q1) << 4, toByteOffset: 4 + j, as: UInt8.self)
        }
    }

    /// Low nibbles of elements j and j+16 in qs[j]; their fifth bits in qh bits j and j+16.
    private static func pack5(_ q0: Int32, _ q1: Int32, _ j: Int, _ y: UnsafeMutableRawPointer,
                              qsOffset: Int, qh: inout UInt32) {
        y.storeBytes(of: UInt8(q0 & 0x0F) | UInt8(q1 & 0x0F) << 4, toByteOffset: qsOffset + j, as: UInt8.self)
        qh |= UInt32((q0 >> 4) & 1) << UInt32(j)
        qh |= UInt32((q1 >> 4) & 1) << UInt32(j + 16)
    }

    /// d = max / -16, q = x / d + 16 in 0...31.
    private static func q5_0(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, block: Int) throws {
        let d = signedAbsMax(x) / -16
        let id: Float = d != 0 ? 1 / d : 0
        try storeScale(d, y, at: 0, .q5_0, block: block, "scale")
        var qh: UInt32 = 0
        for j in 0..<16 {
            let q0 = truncated(x[j] * id + 16.5, 0, 31)
            let q1 = truncated(x[j + 16] * id + 16.5, 0, 31)
            pack5(q0, q1, j, y, qsOffset: 6, qh: &qh)
        }
        y.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
    }

    /// d = (max - min) / 31, m = min, q = (x - min) / d in 0...31.
    private static func q5_1(_ x: UnsafePointer<Float>, _ y: UnsafeMutableRawPointer, block: Int) throws {
        let (lo, hi) = minMax(x)
        let d = (hi - lo) / 31
        let id: Float = d != 0 ? 1 / d : 0
        try storeScale(d, y, at: 0, .q5_1, block: block, "scale")
        try storeScale(lo, y, at: 2, .q5_1, block: block, "minimum")
        var qh: UInt32 = 0
        for j in 0..<16 {
            let q0 = truncated((x[j] - lo) * id + 0.5, 0, 31)
            let q1 = truncated((x[j + 16] - lo) * id + 0.5, 0, 31)
            pack5(q0, q1, j, y, qsOffset: 8, qh: &qh)
        }
        y.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
    }
}
