import CBLAS

/// Row-major BLAS calls in the shapes the engine uses.
public enum BLAS {
    /// C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C  (weights stored as (out, in) rows).
    @inline(__always)
    public static func gemmABt(m: Int, n: Int, k: Int,
                               a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, ldb: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int,
                               alpha: Float = 1, beta: Float = 0) {
        Parallel.park()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[m×n] = alpha · A[m×k] · B[k×n] + beta · C.
    @inline(__always)
    public static func gemmAB(m: Int, n: Int, k: Int,
                              a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int,
                              c: UnsafeMutablePointer<Float>, ldc: Int,
                              alpha: Float = 1, beta: Float = 0) {
        Parallel.park()
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y[rows] = alpha · A[rows×cols] · x + beta · y.
    @inline(__always)
    public static func gemv(rows: Int, cols: Int, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                            alpha: Float = 1, beta: Float = 0) {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(cols), alpha, a, Int32(lda),
                    x, 1, beta, y, 1)
    }

    /// y[cols] = alpha · Aᵀ · x + beta · y, with A[rows×cols].
    @inline(__always)
    public static func gemvT(rows: Int, cols: Int, a: UnsafePointer<Float>, lda: Int,
                             x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                             alpha: Float = 1, beta: Float = 0) {
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(cols), alpha, a, Int32(lda),
                    x, 1, beta, y, 1)
    }
}
