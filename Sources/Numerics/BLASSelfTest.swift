/// sgemm and sgemv of the loaded kernel against plain loops in Double, on awkward shapes
/// (odd sizes exercise the kernels' edge handling).
public enum BLASSelfTest {
    public struct Report: Sendable { public let sgemmError: Double; public let sgemvError: Double
        public var passed: Bool { sgemmError < 1e-4 && sgemvError < 1e-4 } }

    public static func run(seed: UInt64 = 42) -> Report {
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
        }
        var worstGemm = 0.0, worstGemv = 0.0
        for (m, n, k) in [(1, 1, 1), (7, 13, 5), (64, 96, 64), (131, 257, 77), (512, 192, 576)] {
            let a = FloatBuffer((0..<(m * k)).map { _ in next() })
            let b = FloatBuffer((0..<(n * k)).map { _ in next() })
            let c = FloatBuffer(count: m * n)
            BLAS.gemmABt(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: k, c: c.pointer, ldc: n)
            for i in 0..<m { for j in 0..<n {
                var s = 0.0, mag = 0.0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(b[j * k + p]); mag += abs(Double(a[i * k + p]) * Double(b[j * k + p])) }
                worstGemm = max(worstGemm, abs(Double(c[i * n + j]) - s) / max(mag, 1e-30))
            } }
            let y = FloatBuffer(count: n)
            BLAS.gemv(rows: n, cols: k, a: b.pointer, lda: k, x: a.pointer, y: y.pointer)
            for j in 0..<n {
                var s = 0.0, mag = 0.0
                for p in 0..<k { s += Double(b[j * k + p]) * Double(a[p]); mag += abs(Double(b[j * k + p]) * Double(a[p])) }
                worstGemv = max(worstGemv, abs(Double(y[j]) - s) / max(mag, 1e-30))
            }
        }
        return Report(sgemmError: worstGemm, sgemvError: worstGemv)
    }
}
