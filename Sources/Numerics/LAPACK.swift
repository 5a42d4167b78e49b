import CBLAS

/// The two LAPACK routines the workbench needs, through OpenBLAS's Fortran symbols
/// (Debian ships no LAPACKE). Matrices are column-major, as LAPACK sees them; a
/// row-major r×c buffer is the column-major c×r transpose, which callers may exploit.
/// Each call asks for its workspace size first, then runs.
public enum LAPACK {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Thin SVD A = U·diag(s)·Vᵀ of a column-major `rows`×`cols` matrix (divide and
    /// conquer, `sgesdd`). With k = min(rows, cols): `u` is rows×k, `vt` is k×cols, both
    /// column-major; `s` holds k singular values, descending.
    public static func svd(_ a: [Float], rows m: Int, cols n: Int) throws -> (u: [Float], s: [Float], vt: [Float]) {
        try checkShape(count: a.count, rows: m, cols: n, routine: "sgesdd")
        try checkFinite(a, routine: "sgesdd")
        let k = min(m, n)
        var a = a
        var s = [Float](repeating: 0, count: k)
        var u = [Float](repeating: 0, count: m * k)
        var vt = [Float](repeating: 0, count: k * n)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var jobz = Int8(UInt8(ascii: "S"))
        var m32 = Int32(m), n32 = Int32(n), lda = Int32(m), ldu = Int32(m), ldvt = Int32(k)
        var info: Int32 = 0
        // Workspace query (lwork = -1), then the call.
        var query: Float = 0
        var lwork: Int32 = -1
        sgesdd_(&jobz, &m32, &n32, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &query, &lwork, &iwork, &info)
        try check(info, routine: "sgesdd", phase: "workspace query")
        lwork = Int32(query.rounded(.up))
        var work = [Float](repeating: 0, count: max(Int(lwork), 1))
        sgesdd_(&jobz, &m32, &n32, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info)
        try check(info, routine: "sgesdd", phase: "decomposition")
        return (u, s, vt)
    }

    /// Eigen decomposition of a symmetric n×n matrix (`ssyevd`, reading the upper
    /// triangle of the column-major input): eigenvalues ascending, and the matching
    /// orthonormal eigenvectors as the columns of a column-major n×n matrix.
    public static func symmetricEigen(_ a: [Float], n: Int) throws -> (values: [Float], vectors: [Float]) {
        try checkShape(count: a.count, rows: n, cols: n, routine: "ssyevd")
        try checkFinite(a, routine: "ssyevd")
        var a = a
        var w = [Float](repeating: 0, count: n)
        var jobz = Int8(UInt8(ascii: "V")), uplo = Int8(UInt8(ascii: "U"))
        var n32 = Int32(n), lda = Int32(n)
        var info: Int32 = 0
        var workQuery: Float = 0
        var iworkQuery: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        ssyevd_(&jobz, &uplo, &n32, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        try check(info, routine: "ssyevd", phase: "workspace query")
        lwork = Int32(workQuery.rounded(.up))
        liwork = iworkQuery
        var work = [Float](repeating: 0, count: max(Int(lwork), 1))
        var iwork = [Int32](repeating: 0, count: max(Int(liwork), 1))
        ssyevd_(&jobz, &uplo, &n32, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        try check(info, routine: "ssyevd", phase: "decomposition")
        return (w, a)
    }

    private static func checkShape(count: Int, rows: Int, cols: Int, routine: String) throws {
        guard rows > 0, cols > 0 else {
            throw Failure(description: "\(routine): matrix must be non-empty (got \(rows)×\(cols))")
        }
        // LAPACK indexes with 32-bit integers.
        guard rows.multipliedReportingOverflow(by: cols).partialValue < Int(Int32.max),
              !rows.multipliedReportingOverflow(by: cols).overflow else {
            throw Failure(description: "\(routine): \(rows)×\(cols) is too large for 32-bit LAPACK")
        }
        guard count == rows * cols else {
            throw Failure(description: "\(routine): expected \(rows)×\(cols) = \(rows * cols) values, got \(count)")
        }
    }

    /// Some LAPACK builds loop forever on NaN, so non-finite input is refused up front.
    private static func checkFinite(_ a: [Float], routine: String) throws {
        guard a.allSatisfy({ $0.isFinite }) else {
            throw Failure(description: "\(routine): matrix contains NaN or infinity")
        }
    }

    private static func check(_ info: Int32, routine: String, phase: String) throws {
        guard info != 0 else { return }
        let why = info < 0 ? "argument \(-info) is invalid" : "did not converge (info \(info))"
        throw Failure(description: "\(routine) \(phase) failed: \(why)")
    }
}
