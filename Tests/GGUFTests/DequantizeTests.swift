import XCTest
@testable import GGUF

/// Hand-made blocks with known values. Expected outputs are computed from the documented
/// layouts with plain per-element indexing (not the decoders' loop structure), and the
/// scales are chosen so every product is exact in Float32.
final class DequantizeTests: XCTestCase {
    func testF32() throws {
        var bytes: [UInt8] = []
        let values: [Float] = [0, -1.5, .greatestFiniteMagnitude, 0x1p-140]
        for v in values { bytes.appendLE(v.bitPattern) }
        XCTAssertEqual(try dequantized(.f32, bytes, count: 4), values)
    }

    func testF16() throws {
        var bytes: [UInt8] = []
        for bits: UInt16 in [0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00, 0x8000] { bytes.appendHalf(bits) }
        let y = try dequantized(.f16, bytes, count: 7)
        XCTAssertEqual(y, [1, -2, 0.5, 65504, 0x1p-24, .infinity, -0.0])
        XCTAssertEqual(y[6].sign, .minus)
    }

    func testBF16() throws {
        var bytes: [UInt8] = []
        for bits: UInt16 in [0x3F80, 0xC040, 0x4049, 0x0000] { bytes.appendLE(bits) }
        XCTAssertEqual(try dequantized(.bf16, bytes, count: 4), [1, -3, 3.140625, 0])
    }

    func testQ8_0() throws {
        var bytes: [UInt8] = []
        bytes.appendHalf(0x3800) // d = 0.5
        var qs: [Int8] = (0..<32).map { j -> Int8 in Int8(j * 8 - 128) } // -128, -120, ... 120
        qs[31] = 127
        bytes += qs.map { UInt8(bitPattern: $0) }
        XCTAssertEqual(qs.first, -128)
        XCTAssertEqual(qs.last, 127)
        XCTAssertEqual(try dequantized(.q8_0, bytes, count: 32), qs.map { Float($0) * 0.5 })
    }

    func testQ4_0() throws {
        var bytes: [UInt8] = []
        bytes.appendHalf(0x4000) // d = 2
        for j in 0..<16 { bytes.append(UInt8(j) | UInt8(15 - j) << 4) }
        let y = try dequantized(.q4_0, bytes, count: 32)
        // Low nibbles are elements 0..15, high nibbles elements 16..31; value (q - 8) * d.
        XCTAssertEqual(Array(y[0..<16]), (0..<16).map { Float($0 - 8) * 2 })
        XCTAssertEqual(Array(y[16..<32]), (0..<16).map { Float(15 - $0 - 8) * 2 })
        XCTAssertEqual(y[0], -16)
        XCTAssertEqual(y[16], 14)
    }

    func testQ4_1() throws {
        var bytes: [UInt8] = []
        bytes.appendHalf(0x3400) // d = 0.25
        bytes.appendHalf(0xBC00) // m = -1
        for j in 0..<16 { bytes.append(UInt8(j) | UInt8(15 - j) << 4) }
        let y = try dequantized(.q4_1, bytes, count: 32)
        XCTAssertEqual(Array(y[0..<16]), (0..<16).map { Float($0) * 0.25 - 1 })
        XCTAssertEqual(Array(y[16..<32]), (0..<16).map { Float(15 - $0) * 0.25 - 1 })
        XCTAssertEqual(y[31], -1)
        XCTAssertEqual(y[15], 2.75)
    }

    /// Element j (< 16) takes its fifth bit from qh bit j, element j + 16 from bit j + 16.
    private func fiveBit(_ qh: UInt32, _ e: Int) -> Int {
        let nibble = e < 16 ? e : 15 - (e - 16)
        return nibble | Int((qh >> UInt32(e)) & 1) << 4
    }

    func testQ5_0() throws {
        let qh: UInt32 = 0xA5C3_0F01
        var bytes: [UInt8] = []
        bytes.appendHalf(0x3C00) // d = 1
        bytes.appendLE(qh)
        for j in 0..<16 { bytes.append(UInt8(j) | UInt8(15 - j) << 4) }
        let y = try dequantized(.q5_0, bytes, count: 32)
        XCTAssertEqual(y, (0..<32).map { Float(fiveBit(qh, $0) - 16) })
        XCTAssertEqual(y[0], 0)   // nibble 0 + bit 0 set -> 16 - 16
        XCTAssertEqual(y[1], -15) // nibble 1, bit 1 clear
        XCTAssertEqual(y[16], 15) // nibble 15 + bit 16 set (0x...C3 low byte of high half)
    }

    func testQ5_1() throws {
        let qh: UInt32 = 0x8000_0001 | 0x0F0F_F0F0
        var bytes: [UInt8] = []
        bytes.appendHalf(0x3800) // d = 0.5
        bytes.appendHalf(0x4000) // m = 2
        bytes.appendLE(qh)
        for j in 0..<16 { bytes.append(UInt8(j) | UInt8(15 - j) << 4) }
        let y = try dequantized(.q5_1, bytes, count: 32)
        XCTAssertEqual(y, (0..<32).map { Float(fiveBit(qh, $0)) * 0.5 + 2 })
        XCTAssertEqual(y[0], 10)  // 16 * 0.5 + 2
        XCTAssertEqual(y[31], 10) // nibble 0 + bit 31 set
    }

    // MARK: K-quants

    /// Sub-block scales and mins (6 bits each) chosen so sub-blocks 4-7 need their top bits.
    let kScales: [UInt8] = [1, 2, 3, 4, 33, 47, 63, 17]
    let kMins: [UInt8] = [0, 5, 10, 63, 1, 34, 20, 48]

    /// The 12-byte field of Q4_K/Q5_K: bytes 0-3 hold scales 0-3 in their low 6 bits and the
    /// top 2 bits of scales 4-7 above; bytes 4-7 the same for mins; bytes 8-11 the low
    /// nibbles of scale (low half) and min (high half) 4-7.
    func packKScales(_ sc: [UInt8], _ m: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 12)
        for j in 0..<4 {
            out[j] = sc[j] | (sc[j + 4] >> 4) << 6
            out[j + 4] = m[j] | (m[j + 4] >> 4) << 6
            out[j + 8] = (sc[j + 4] & 0x0F) | (m[j + 4] & 0x0F) << 4
        }
        return out
    }

    func testKScalePackingLiteral() {
        let packed = packKScales(kScales, kMins)
        XCTAssertEqual(packed, [129, 130, 195, 68, 0, 133, 74, 255, 17, 47, 79, 1])
        packed.withUnsafeBufferPointer { p in
            for j in 0..<8 {
                let (s, m) = Dequantize.scaleMin(j, p.baseAddress!)
                XCTAssertEqual(s, kScales[j], "scale \(j)")
                XCTAssertEqual(m, kMins[j], "min \(j)")
            }
        }
    }

    /// Nibble pattern for 128 bytes: low = k mod 16, high = (7k + 3) mod 16.
    func nibbleBytes() -> [UInt8] {
        (0..<128).map { k in UInt8(k % 16) | UInt8((7 * k + 3) % 16) << 4 }
    }

    func testQ4_K() throws {
        let qs = nibbleBytes()
        var bytes: [UInt8] = []
        bytes.appendHalf(0x3C00) // d = 1
        bytes.appendHalf(0x3800) // dmin = 0.5
        bytes += packKScales(kScales, kMins)
        bytes += qs
        XCTAssertEqual(bytes.count, GGMLType.q4_K.blockBytes)
        let y = try dequantized(.q4_K, bytes, count: 256)
        for e in 0..<256 {
            // 64-element chunk c uses bytes 32c..<32c+32: low nibbles first, then high.
            let c = e / 64, w = e % 64
            let sub = 2 * c + (w < 32 ? 0 : 1)
            let byte = qs[32 * c + w % 32]
            let q = w < 32 ? byte & 0x0F : byte >> 4
            let expected = Float(kScales[sub]) * Float(q) - 0.5 * Float(kMins[sub])
            XCTAssertEqual(y[e], expected, "element \(e)")
        }
        XCTAssertEqual(y[0], 0)                      // scale 1, q 0, min 0
        XCTAssertEqual(y[32 * 7 + 1], 17 * 10 - 24)  // element 225: sub 7, high nibble of byte 97
    }

    func testQ5_K() throws {
        let qs = nibbleBytes()
        var rng = SplitMix64(seed: 5)
        let qh = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var bytes: [UInt8] = []
        bytes.appendHalf(0x3800) // d = 0.5
        bytes.appendHalf(0x3400) // dmin = 0.25
        bytes += packKScales(kScales, kMins)
        bytes += qh
        bytes += qs
        XCTAssertEqual(bytes.count, GGMLType.q5_K.blockBytes)
        let y = try dequantized(.q5_K, bytes, count: 256)
        for e in 0..<256 {
            let c = e / 64, w = e % 64
            let sub = 2 * c + (w < 32 ? 0 : 1)
            let byte = qs[32 * c + w % 32]
            // Fifth bit: qh[w % 32] bit 2c for the first 32 of the chunk, bit 2c+1 after.
            let high = (qh[w % 32] >> UInt8(sub)) & 1
            let q = Int(w < 32 ? byte & 0x0F : byte >> 4) + 16 * Int(high)
            let expected = 0.5 * Float(kScales[sub]) * Float(q) - 0.25 * Float(kMins[sub])
            XCTAssertEqual(y[e], expected, "element \(e)")
        }
    }

    func testQ6_K() throws {
        var rng = SplitMix64(seed: 6)
        let ql = (0..<128).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let qh = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let scales: [Int8] = [1, -2, 3, -4, 5, -6, 7, -8, 127, -128, 11, -12, 13, -14, 15, -16]
        var bytes = ql + qh + scales.map { UInt8(bitPattern: $0) }
        bytes.appendHalf(0x3400) // d = 0.25
        XCTAssertEqual(bytes.count, GGMLType.q6_K.blockBytes)
        let y = try dequantized(.q6_K, bytes, count: 256)
        for e in 0..<256 {
            // Half h (128 elements) uses ql[64h..], qh[32h..], scales[8h..]; quarter t and
            // lane l: low 4 bits from ql[64h + l + 32(t % 2)] (low nibble for t < 2, high
            // otherwise), top 2 bits from qh[32h + l] bits 2t, 2t+1; scale index l/16 + 2t.
            let h = e / 128, t = (e % 128) / 32, l = e % 32
            let lowByte = ql[64 * h + l + 32 * (t % 2)]
            let low = t < 2 ? lowByte & 0x0F : lowByte >> 4
            let top = (qh[32 * h + l] >> UInt8(2 * t)) & 3
            let q = Int(low | top << 4) - 32
            let s = scales[8 * h + l / 16 + 2 * t]
            XCTAssertEqual(y[e], 0.25 * Float(s) * Float(q), "element \(e)")
        }
    }

    func testQ6_KLiteral() throws {
        // All quants at the extremes: ql = 0, qh = 0 -> q = -32; ql = 0xFF, qh = 0xFF -> q = 31.
        var low = [UInt8](repeating: 0, count: 128 + 64)
        low += [Int8](repeating: 2, count: 16).map { UInt8(bitPattern: $0) }
        low.appendHalf(0x3C00)
        XCTAssertEqual(try dequantized(.q6_K, low, count: 256), [Float](repeating: -64, count: 256))
        var high = [UInt8](repeating: 0xFF, count: 128 + 64)
        high += [Int8](repeating: -1, count: 16).map { UInt8(bitPattern: $0) }
        high.appendHalf(0x3C00)
        XCTAssertEqual(try dequantized(.q6_K, high, count: 256), [Float](repeating: -31, count: 256))
    }

    func testMultipleBlocksAreIndependent() throws {
        var bytes: [UInt8] = []
        for block in 0..<3 {
            bytes.appendHalf([0x3C00, 0x4000, 0xBC00][block]) // d = 1, 2, -1
            bytes += (0..<32).map { UInt8(bitPattern: Int8($0 - block)) }
        }
        let y = try dequantized(.q8_0, bytes, count: 96)
        for e in 0..<96 {
            let block = e / 32
            XCTAssertEqual(y[e], Float(e % 32 - block) * [1, 2, -1][block])
        }
    }

    func testBadCountsAndUnsupportedTypes() {
        assertGGUFError(.invalidArgument, try dequantized(.q4_K, [UInt8](repeating: 0, count: 144), count: 128),
                        contains: "not a multiple of the Q4_K block size 256")
        assertGGUFError(.unsupported, try dequantized(.q2_K, [UInt8](repeating: 0, count: 84), count: 256),
                        contains: "Q2_K is not supported")
        XCTAssertEqual(try dequantized(.q4_0, [], count: 0), [])
    }
}
