import Foundation

/// Storage formats the fast kernels read directly. Everything else is widened to `f32`
/// when the model loads.
public enum WeightFormat: String, Sendable {
    case f32, q8_0, q4_1

    /// (weights per block, bytes per block).
    public var block: (elements: Int, bytes: Int) {
        switch self {
        case .f32: return (1, 4)
        case .q8_0: return (32, 34)
        case .q4_1: return (32, 20)
        }
    }
}

/// A weight matrix W[rows × cols] (rows = outputs, cols = inputs) kept in its compressed
/// GGUF form for matrix-vector products (decode reads ~6x fewer bytes than f32), with an
/// f32 copy for matrix-matrix products (prefill, batched decode) through sgemm.
public final class WeightMatrix: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    public let format: WeightFormat
    /// Compressed rows; points into `owner`'s memory (e.g. the memory-mapped GGUF file).
    public let blocks: UnsafeRawPointer
    public let rowBytes: Int
    /// Dense f32 copy, row-major.
    public let dense: FloatBuffer
    private let owner: AnyObject?

    public init(rows: Int, cols: Int, format: WeightFormat, blocks: UnsafeRawPointer,
                owner: AnyObject?, dense: FloatBuffer) {
        precondition(cols % format.block.elements == 0, "columns must be whole blocks")
        precondition(dense.count == rows * cols)
        self.rows = rows
        self.cols = cols
        self.format = format
        self.blocks = blocks
        self.rowBytes = cols / format.block.elements * format.block.bytes
        self.owner = owner
        self.dense = dense
    }

    /// A matrix held only as f32.
    public convenience init(dense: FloatBuffer, rows: Int, cols: Int) {
        self.init(rows: rows, cols: cols, format: .f32, blocks: UnsafeRawPointer(dense.pointer),
                  owner: dense, dense: dense)
    }

    /// Bytes the compressed form occupies (what decode streams from memory).
    public var compressedBytes: Int { rows * rowBytes }

    /// y[rows] = W · x (one vector), across `Parallel.threads`.
    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        gemv(x, y, rowRange: 0..<rows)
    }

    /// Rows `rowRange` only, single-threaded by the caller's choice of range; the full
    /// call splits rows across threads.
    public func gemv(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rowRange: Range<Int>) {
        if rowRange.count == rows && format == .f32 {
            BLAS.gemv(rows: rows, cols: cols, a: dense.pointer, lda: cols, x: x, y: y)
        } else if rowRange.count == rows && Parallel.threads > 1 && rows >= 64 {
            Parallel.chunks(rows, granule: 16) { s, e in self.gemvRows(x, y, s, e) }
        } else {
            gemvRows(x, y, rowRange.lowerBound, rowRange.upperBound)
        }
    }

    @inline(__always)
    private func gemvRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ s: Int, _ e: Int) {
        switch format {
        case .f32:
            BLASSingleThread.gemv(rows: e - s, cols: cols, a: dense.pointer + s * cols, x: x, y: y + s)
        case .q4_1:
            QuantKernels.gemvQ4_1(blocks + s * rowBytes, rowBytes: rowBytes, rows: e - s, cols: cols, x: x, y: y + s)
        case .q8_0:
            QuantKernels.gemvQ8_0(blocks + s * rowBytes, rowBytes: rowBytes, rows: e - s, cols: cols, x: x, y: y + s)
        }
    }

    /// Y[m × rows] = X[m × cols] · Wᵀ. Small m streams the compressed rows once for all
    /// vectors; larger m uses sgemm on the f32 copy. With `batchInvariant` every row of Y
    /// comes out bit for bit as a single-vector product would give it, whatever m is (the
    /// compressed kernels accumulate each vector in the same order at any batch size;
    /// sgemm does not) — slower for large m, but decode and teacher-forced runs then agree
    /// exactly, which a quantized cache needs (its rounding amplifies last-bit differences).
    public func matmul(_ x: UnsafePointer<Float>, m: Int, _ y: UnsafeMutablePointer<Float>, batchInvariant: Bool = false) {
        if m == 1 { gemv(x, y); return }
        if format == .f32 && batchInvariant {
            for i in 0..<m { gemv(x + i * cols, y + i * rows) }
            return
        }
        if format != .f32 && (m <= QuantKernels.maxFusedBatch || batchInvariant) {
            Parallel.chunks(rows, granule: 16) { s, e in
                switch self.format {
                case .q4_1:
                    QuantKernels.gemmQ4_1(self.blocks + s * self.rowBytes, rowBytes: self.rowBytes,
                                          rows: e - s, cols: self.cols, x: x, m: m, y: y + s, ldy: self.rows)
                case .q8_0:
                    QuantKernels.gemmQ8_0(self.blocks + s * self.rowBytes, rowBytes: self.rowBytes,
                                          rows: e - s, cols: self.cols, x: x, m: m, y: y + s, ldy: self.rows)
                case .f32: break
                }
            }
            return
        }
        BLAS.gemmABt(m: m, n: rows, k: cols, a: x, lda: cols, b: dense.pointer, ldb: cols, c: y, ldc: rows)
    }
}

/// sgemv on a row slice from inside our own worker threads (OpenBLAS must not spawn
/// its own threads there); implemented with our dot kernel.
enum BLASSingleThread {
    @inline(__always)
    static func gemv(rows: Int, cols: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { y[r] = Kernels.dot(a + r * cols, x, cols) }
    }
}
