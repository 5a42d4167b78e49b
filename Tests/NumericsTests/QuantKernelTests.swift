import XCTest
@testable import Numerics
import TestSupport

/// The compressed-weight kernels (permuted layouts, fused batches, odd tails) against a
/// plain dequantize-then-dot in Double.
final class QuantKernelTests: XCTestCase {
    var rng = SplitMix64(seed: 3)

    func makeBlocks(_ format: WeightFormat, rows: Int, cols: Int) -> [UInt8] {
        let nb = cols / 32
        var bytes: [UInt8] = []
        for _ in 0..<(rows * nb) {
            switch format {
            case .q4_1:
                bytes += halfBytes(Float(rng.nextDouble() * 0.1 + 0.001)) + halfBytes(Float(rng.nextDouble() * 0.2 - 0.1))
                for _ in 0..<16 { bytes.append(UInt8(rng.next() & 0xFF)) }
            case .q8_0:
                bytes += halfBytes(Float(rng.nextDouble() * 0.05 + 0.001))
                for _ in 0..<32 { bytes.append(UInt8(rng.next() & 0xFF)) }
            case .f32: fatalError()
            }
        }
        return bytes
    }

    func halfBytes(_ v: Float) -> [UInt8] {
        let b = Float16(v).bitPattern
        return [UInt8(b & 0xFF), UInt8(b >> 8)]
    }

    /// Scalar dequantization straight from the GGUF block definitions.
    func reference(_ format: WeightFormat, _ bytes: [UInt8], rows: Int, cols: Int) -> [Double] {
        var w = [Double](repeating: 0, count: rows * cols)
        let per = format.block.bytes
        for b in 0..<(rows * cols / 32) {
            let o = b * per
            let d = Double(Float(Float16(bitPattern: UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8)))
            if format == .q4_1 {
                let m = Double(Float(Float16(bitPattern: UInt16(bytes[o + 2]) | UInt16(bytes[o + 3]) << 8)))
                for j in 0..<16 {
                    w[32 * b + j] = d * Double(bytes[o + 4 + j] & 15) + m
                    w[32 * b + j + 16] = d * Double(bytes[o + 4 + j] >> 4) + m
                }
            } else {
                for j in 0..<32 { w[32 * b + j] = d * Double(Int8(bitPattern: bytes[o + 2 + j])) }
            }
        }
        return w
    }

    func check(_ format: WeightFormat, rows: Int, cols: Int, batches: [Int]) {
        let bytes = makeBlocks(format, rows: rows, cols: cols)
        let ref = reference(format, bytes, rows: rows, cols: cols)
        bytes.withUnsafeBytes { raw in
            let dense = FloatBuffer(count: rows * cols)
            QuantKernels.dequantize(format, raw.baseAddress!, count: rows * cols, into: dense.pointer)
            for i in 0..<(rows * cols) { XCTAssertEqual(Double(dense[i]), ref[i], accuracy: 1e-6) }
            let w = WeightMatrix(rows: rows, cols: cols, format: format, blocks: raw.baseAddress!, owner: nil, dense: dense)
            for m in batches {
                let x = FloatBuffer((0..<(m * cols)).map { _ in Float(rng.nextDouble() * 2 - 1) })
                let y = FloatBuffer(count: m * rows)
                w.matmul(x.pointer, m: m, y.pointer)
                var worst = 0.0
                for i in 0..<m {
                    for r in 0..<rows {
                        var s = 0.0, mag = 0.0
                        for c in 0..<cols { s += ref[r * cols + c] * Double(x[i * cols + c]); mag += abs(ref[r * cols + c] * Double(x[i * cols + c])) }
                        worst = max(worst, abs(Double(y[i * rows + r]) - s) / max(mag, 1e-9))
                    }
                }
                XCTAssertLessThan(worst, 1e-5, "\(format) \(rows)x\(cols) batch \(m)")
            }
        }
    }

    func testQ4_1AllBatchSizes() {
        Parallel.threads = 2
        check(.q4_1, rows: 70, cols: 128, batches: Array(1...17))
    }

    func testQ4_1OddBlockCount() {
        Parallel.threads = 2
        check(.q4_1, rows: 33, cols: 96, batches: [1, 3, 4, 5, 8, 9])
    }

    func testQ8_0AllBatchSizes() {
        Parallel.threads = 2
        check(.q8_0, rows: 70, cols: 96, batches: Array(1...17))
    }

    func testSingleThreaded() {
        Parallel.threads = 1
        check(.q4_1, rows: 20, cols: 64, batches: [1, 2, 8])
        check(.q8_0, rows: 20, cols: 64, batches: [1, 2, 8])
        Parallel.threads = 2
    }
}
