import XCTest
@testable import Numerics
import TestSupport

final class KernelTests: XCTestCase {
    func testSoftmaxAndLogSumExp() {
        let x = FloatBuffer([1, 2, 3, -1000, 0.5])
        let lse = Kernels.logSumExp(x.pointer, 5)
        let expected = log(exp(1.0) + exp(2.0) + exp(3.0) + exp(0.5))
        XCTAssertEqual(lse, expected, accuracy: 1e-6)
        Kernels.softmax(x.pointer, 5)
        XCTAssertEqual(Double(x[2]), exp(3.0 - expected), accuracy: 1e-6)
        XCTAssertEqual(Double(x.array.reduce(0, +)), 1, accuracy: 1e-6)
        XCTAssertEqual(x[3], 0)
    }

    func testRMSNormMatchesFormula() {
        let v: [Float] = (0..<19).map { Float($0) * 0.3 - 2 }
        let w: [Float] = (0..<19).map { 1 + Float($0) * 0.01 }
        let x = FloatBuffer(v), wb = FloatBuffer(w), out = FloatBuffer(count: 19)
        Kernels.rmsNorm(x.pointer, weight: wb.pointer, out: out.pointer, n: 19, eps: 1e-5)
        let rms = (v.map { Double($0 * $0) }.reduce(0, +) / 19 + 1e-5).squareRoot()
        for i in 0..<19 { XCTAssertEqual(Double(out[i]), Double(v[i]) / rms * Double(w[i]), accuracy: 1e-5) }
    }

    /// GGUF's interleaved layout: pair (2i, 2i+1) rotates by angle θ_i.
    func testRopeRotatesAdjacentPairs() {
        let d = 8
        let x = FloatBuffer((0..<d).map { Float($0 + 1) })
        var cs = [Float]()
        for i in 0..<(d / 2) { let a = Double(i + 1) * 0.3; cs += [Float(cos(a)), Float(sin(a))] }
        let table = FloatBuffer(cs)
        Kernels.rope(x.pointer, heads: 1, headDim: d, cosSin: table.pointer)
        for i in 0..<(d / 2) {
            let a = Double(i + 1) * 0.3, u = Double(2 * i + 1), v = Double(2 * i + 2)
            XCTAssertEqual(Double(x[2 * i]), u * cos(a) - v * sin(a), accuracy: 1e-5)
            XCTAssertEqual(Double(x[2 * i + 1]), u * sin(a) + v * cos(a), accuracy: 1e-5)
        }
    }

    func testKthLargestAgreesWithSorting() {
        var rng = SplitMix64(seed: 9)
        for n in [1, 2, 7, 100, 1000] {
            let values = (0..<n).map { _ in Float(rng.next() % 50) }   // many ties
            let sorted = values.sorted(by: >)
            for k in Set([1, n / 2 + 1, n]) {
                let b = FloatBuffer(values)
                XCTAssertEqual(Kernels.kthLargest(b.pointer, n, k), sorted[k - 1], "n \(n) k \(k)")
            }
        }
    }

    func testDotAndAxpy() {
        let a = FloatBuffer((0..<37).map { Float($0) }), b = FloatBuffer((0..<37).map { Float(37 - $0) })
        XCTAssertEqual(Kernels.dot(a.pointer, b.pointer, 37), Float((0..<37).map { $0 * (37 - $0) }.reduce(0, +)))
        Kernels.axpy(2, a.pointer, b.pointer, 37)
        XCTAssertEqual(b[10], 27 + 20)
    }

    func testParallelChunksCoverEveryIndexOnce() {
        Parallel.threads = 2
        for n in [0, 1, 15, 16, 17, 1000] {
            let hits = FloatBuffer(count: max(n, 1))
            Parallel.chunks(n, granule: 16) { s, e in for i in s..<e { hits[i] += 1 } }
            for i in 0..<n { XCTAssertEqual(hits[i], 1, "n \(n) index \(i)") }
        }
        let counts = FloatBuffer(count: 100)
        for _ in 0..<200 { Parallel.forEach(100) { i in counts[i] += 1 } }
        XCTAssertEqual(counts.array, [Float](repeating: 200, count: 100))
    }
}
