import Foundation

/// Deterministic top-k over scored candidates: higher score first, ties broken by index
/// (lower or higher, the caller says). The order is strict and total (NaN ranks lowest),
/// so the chosen set is unique whatever the algorithm; quickselect finds it in expected
/// O(n). The index buffer is reused across calls so the decode path does not allocate.
struct TopK {
    private var order: [Int32] = []

    /// The `k` best of `scores[0..<n]`, as indices in ascending order, in `out`
    /// (replacing its contents, keeping its capacity).
    /// - Parameter lowerIndexWins: on equal scores, prefer the lower index (else the higher).
    mutating func select(_ k: Int, of n: Int, scores: UnsafePointer<Float>, lowerIndexWins: Bool = true,
                         into out: inout [Int32]) {
        out.removeAll(keepingCapacity: true)
        let k = max(0, min(k, n))
        guard k > 0 else { return }
        if k == n {
            for i in 0..<n { out.append(Int32(i)) }
            return
        }
        if order.count < n { order.reserveCapacity(n) }
        order.removeAll(keepingCapacity: true)
        for i in 0..<n { order.append(Int32(i)) }
        order.withUnsafeMutableBufferPointer { buf in
            let a = buf.baseAddress!
            @inline(__always) func key(_ i: Int32) -> Float {
                let s = scores[Int(i)]
                return s.isNaN ? -.infinity : s
            }
            // a ranks before b.
            @inline(__always) func better(_ x: Int32, _ y: Int32) -> Bool {
                let kx = key(x), ky = key(y)
                if kx != ky { return kx > ky }
                return lowerIndexWins ? x < y : x > y
            }
            // Quickselect: afterwards a[0..<k] holds the k best (unordered).
            var lo = 0, hi = n - 1
            while lo < hi {
                // Median of three as pivot keeps sorted inputs (common: scores by position) linear.
                let mid = lo + (hi - lo) / 2
                if better(a[mid], a[lo]) { Self.exchange(a, lo, mid) }
                if better(a[hi], a[lo]) { Self.exchange(a, lo, hi) }
                if better(a[hi], a[mid]) { Self.exchange(a, mid, hi) }
                let pivot = a[mid]
                var i = lo, j = hi
                while i <= j {
                    while better(a[i], pivot) { i += 1 }
                    while better(pivot, a[j]) { j -= 1 }
                    if i <= j { Self.exchange(a, i, j); i += 1; j -= 1 }
                }
                // Now a[lo...j] rank at or above the pivot, a[i...hi] at or below.
                if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { break }
            }
        }
        for i in 0..<k { out.append(order[i]) }
        out.sort()
    }

    @inline(__always)
    private static func exchange(_ a: UnsafeMutablePointer<Int32>, _ i: Int, _ j: Int) {
        let t = a[i]; a[i] = a[j]; a[j] = t
    }
}
