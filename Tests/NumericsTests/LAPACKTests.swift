import XCTest
@testable import Numerics

final class LAPACKTests: XCTestCase {
    /// Deterministic pseudo-random values in [-1, 1).
    private func noise(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<n).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    /// Column-major element (i, j) of an r-row matrix.
    private func at(_ a: [Float], _ i: Int, _ j: Int, rows: Int) -> Float { a[i + j * rows] }

    private func checkSVD(rows m: Int, cols n: Int, seed: UInt64) throws {
        let a = noise(m * n, seed: seed)
        let (u, s, vt) = try LAPACK.svd(a, rows: m, cols: n)
        let k = min(m, n)
        XCTAssertEqual(u.count, m * k)
        XCTAssertEqual(vt.count, k * n)
        for i in 1..<k { XCTAssertGreaterThanOrEqual(s[i - 1], s[i], "descending") }
        XCTAssertGreaterThanOrEqual(s[k - 1], 0)
        // Reconstruction.
        for i in 0..<m {
            for j in 0..<n {
                var x: Float = 0
                for c in 0..<k { x += at(u, i, c, rows: m) * s[c] * at(vt, c, j, rows: k) }
                XCTAssertEqual(x, at(a, i, j, rows: m), accuracy: 1e-5)
            }
        }
        // Orthonormal columns of U and rows of Vᵀ.
        for p in 0..<k {
            for q in 0..<k {
                var uu: Float = 0, vv: Float = 0
                for i in 0..<m { uu += at(u, i, p, rows: m) * at(u, i, q, rows: m) }
                for j in 0..<n { vv += at(vt, p, j, rows: k) * at(vt, q, j, rows: k) }
                XCTAssertEqual(uu, p == q ? 1 : 0, accuracy: 1e-5)
                XCTAssertEqual(vv, p == q ? 1 : 0, accuracy: 1e-5)
            }
        }
    }

    func testSVDTallAndWide() throws {
        try checkSVD(rows: 9, cols: 4, seed: 1)
        try checkSVD(rows: 4, cols: 9, seed: 2)
        try checkSVD(rows: 6, cols: 6, seed: 3)
    }

    func testSVDKnownSingularValues() throws {
        // diag(3, -5, 2) in a 4×3 matrix: singular values 5, 3, 2.
        var a = [Float](repeating: 0, count: 12)
        a[0 + 0 * 4] = 3; a[1 + 1 * 4] = -5; a[2 + 2 * 4] = 2
        let (_, s, _) = try LAPACK.svd(a, rows: 4, cols: 3)
        XCTAssertEqual(s[0], 5, accuracy: 1e-6)
        XCTAssertEqual(s[1], 3, accuracy: 1e-6)
        XCTAssertEqual(s[2], 2, accuracy: 1e-6)
    }

    func testSymmetricEigenKnownAndReconstructed() throws {
        let (w, v) = try LAPACK.symmetricEigen([2, 1, 1, 2], n: 2)
        XCTAssertEqual(w[0], 1, accuracy: 1e-6)
        XCTAssertEqual(w[1], 3, accuracy: 1e-6)
        XCTAssertEqual(abs(v[0]), Float(0.5).squareRoot(), accuracy: 1e-6)

        let n = 7
        let r = noise(n * n, seed: 9)
        var a = [Float](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i + j * n] = r[i + j * n] + r[j + i * n] } }
        let (values, vectors) = try LAPACK.symmetricEigen(a, n: n)
        for i in 1..<n { XCTAssertLessThanOrEqual(values[i - 1], values[i], "ascending") }
        for i in 0..<n {
            for j in 0..<n {
                var x: Float = 0
                for c in 0..<n { x += vectors[i + c * n] * values[c] * vectors[j + c * n] }
                XCTAssertEqual(x, a[i + j * n], accuracy: 1e-5)
            }
        }
    }

    func testBadShapesThrowReadableErrors() {
        XCTAssertThrowsError(try LAPACK.svd([1, 2, 3], rows: 2, cols: 2)) { error in
            XCTAssertEqual("\(error)", "sgesdd: expected 2×2 = 4 values, got 3")
        }
        XCTAssertThrowsError(try LAPACK.svd([], rows: 0, cols: 3))
        XCTAssertThrowsError(try LAPACK.symmetricEigen([1, 2], n: 2))
    }

    func testNonFiniteInputIsRejected() {
        // Some LAPACK builds loop on NaN; the wrapper refuses it up front.
        XCTAssertThrowsError(try LAPACK.svd([.nan, 1, 1, 1], rows: 2, cols: 2)) { error in
            XCTAssertEqual("\(error)", "sgesdd: matrix contains NaN or infinity")
        }
        XCTAssertThrowsError(try LAPACK.symmetricEigen([1, .infinity, .infinity, 1], n: 2))
    }
}
