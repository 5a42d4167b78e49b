import XCTest
@testable import GGUF

final class QuantizeTests: XCTestCase {
    /// Exactly representable inputs, so the expected bytes do not depend on libm.
    let ramp: [Float] = (0..<32).map { Float(($0 * 37) % 61 - 30) / 8 }

    /// Bytes produced for `ramp` by the gguf Python package's reference quantizers (which
    /// mirror ggml's quantize_row_*_ref), recorded once.
    func testMatchesReferenceBytes() throws {
        let expected: [(GGMLType, [UInt8])] = [
            (.q8_0, [143, 39, 129, 30, 184, 85, 239, 137, 38, 193, 93, 248, 146, 47, 201, 102, 0,
                     154, 55, 209, 110, 8, 163, 63, 218, 119, 17, 171, 72, 226, 127, 25, 180, 80]),
            (.q4_0, [128, 55, 176, 90, 243, 157, 39, 193, 106, 244, 158, 55, 209, 107, 245, 174, 56, 210]),
            (.q4_1, [0, 56, 128, 195, 176, 89, 227, 141, 39, 177, 90, 244, 157, 55, 193, 106, 244, 158, 56, 194]),
            (.q5_0, [128, 51, 74, 105, 173, 181, 112, 164, 231, 27, 78, 129, 181, 248, 44, 95, 146, 198,
                     249, 61, 96, 163]),
            (.q5_1, [190, 51, 128, 195, 74, 105, 173, 181, 96, 163, 215, 26, 77, 113, 180, 232, 43, 94,
                     130, 197, 249, 60, 96, 147]),
        ]
        for (type, bytes) in expected {
            XCTAssertEqual(try Quantize.encode(ramp, as: type), bytes, "\(type)")
        }
    }

    func testExactCases() throws {
        let zeros = [Float](repeating: 0, count: 32)
        let fives = [Float](repeating: 5, count: 32)
        for type in Quantize.supportedTypes {
            let z = try Quantize.encode(zeros, as: type)
            XCTAssertEqual(try dequantized(type, z, count: 32), zeros, "\(type) zeros")
        }
        // Type-1 quants store the minimum, so a constant block is exact.
        for type in [GGMLType.q4_1, .q5_1, .f16, .bf16, .f32] {
            XCTAssertEqual(try dequantized(type, try Quantize.encode(fives, as: type), count: 32), fives, "\(type)")
        }
        // F32 passes anything through, including non-finite values.
        let odd: [Float] = [.nan, .infinity, -0.0, 0x1p-149]
        let back = try dequantized(.f32, try Quantize.encode(odd, as: .f32), count: 4)
        XCTAssertTrue(back[0].isNaN)
        XCTAssertEqual(Array(back[1...]), Array(odd[1...]))
    }

    func testBFloat16RoundsToNearestEven() {
        XCTAssertEqual(bfloat16Bits(1.0), 0x3F80)
        XCTAssertEqual(bfloat16Bits(Float(bitPattern: 0x3F80_8000)), 0x3F80) // tie -> even
        XCTAssertEqual(bfloat16Bits(Float(bitPattern: 0x3F81_8000)), 0x3F82) // tie -> even
        XCTAssertEqual(bfloat16Bits(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertTrue(bfloat16ToFloat(bfloat16Bits(.nan)).isNaN)
    }

    /// Round trips stay within the error each format allows, block by block.
    func testQuantizeDequantizeErrorBounds() throws {
        var rng = SplitMix64(seed: 42)
        let blocks = 256
        var x = [Float](repeating: 0, count: blocks * 32)
        for b in 0..<blocks {
            let scale = [Float(0.01), 1, 50][b % 3]
            let offset: Float = b % 4 == 0 ? scale * 2 : 0 // some blocks far from zero
            for j in 0..<32 { x[b * 32 + j] = Float.random(in: -scale...scale, using: &rng) + offset }
        }
        let halfUlp: Float = 0x1p-11 // relative rounding of an f16 scale or minimum
        for type in Quantize.supportedTypes {
            let y = try dequantized(type, try Quantize.encode(x, as: type), count: x.count)
            var sumSq: Float = 0, errSq: Float = 0
            for b in 0..<blocks {
                let block = x[(b * 32)..<(b * 32 + 32)]
                let amax = block.map(abs).max()!
                let lo = block.min()!, hi = block.max()!
                let bound: Float
                switch type {
                case .f32: bound = 0
                case .f16: bound = amax * halfUlp + 0x1p-25
                case .bf16: bound = amax * 0x1p-8
                case .q8_0: bound = (amax / 127) * (0.5 + 128 * halfUlp)
                case .q4_0: bound = (amax / 8) * (1 + 16 * halfUlp)       // -max clamps one step
                case .q5_0: bound = (amax / 16) * (1 + 32 * halfUlp)
                case .q4_1: bound = ((hi - lo) / 15) * (0.5 + 16 * halfUlp) + abs(lo) * halfUlp
                case .q5_1: bound = ((hi - lo) / 31) * (0.5 + 32 * halfUlp) + abs(lo) * halfUlp
                default: XCTFail("no bound for \(type)"); return
                }
                for i in block.indices {
                    let err = abs(y[i] - x[i])
                    XCTAssertLessThanOrEqual(err, bound * 1.0001 + 1e-7, "\(type) element \(i) x=\(x[i]) y=\(y[i])")
                    errSq += err * err
                    sumSq += x[i] * x[i]
                }
            }
            let relRMS = (errSq / sumSq).squareRoot()
            let limit: Float = [.q4_0: 0.12, .q4_1: 0.06, .q5_0: 0.06, .q5_1: 0.03, .q8_0: 0.005][type] ?? 0.004
            XCTAssertLessThan(relRMS, limit, "\(type) relative RMS error")
        }
    }

    func testRejectsBadInput() {
        assertGGUFError(.invalidArgument, try Quantize.encode([1, 2, 3], as: .q8_0), contains: "not a multiple")
        assertGGUFError(.unsupported, try Quantize.encode([Float](repeating: 0, count: 256), as: .q6_K), contains: "Q6_K is not supported")
        var withNaN = [Float](repeating: 1, count: 64)
        withNaN[40] = .nan
        assertGGUFError(.invalidArgument, try Quantize.encode(withNaN, as: .q4_1), contains: "value 40 is nan")
        assertGGUFError(.invalidArgument, try Quantize.encode([Float](repeating: -1e7, count: 32), as: .q4_1),
                        contains: "Q4_1 block 0 minimum")
    }
}
