import Foundation

/// Deterministic top-k in linear expected time: the k largest scores, ties broken towards
/// the lower index, returned as ascending indices.
enum TopK {
    /// Indices i in 0..<scores.count of the k largest `scores[i]`.
    static func indices(_ scores: UnsafeBufferPointer<Float>, _ k: Int) -> [Int] {
        let n = scores.count
        if k <= 0 { return [] }
        if k >= n { return Array(0..<n) }
        var scratch = Array(scores)
        let kth = kthLargest(&scratch, k)
        var taken = 0
        var chosen = [Bool](repeating: false, count: n)
        for i in 0..<n where scores[i] > kth {
            chosen[i] = true
            taken += 1
        }
        for i in 0..<n where taken < k && scores[i] == kth {
            chosen[i] = true
            taken += 1
        }
        var out: [Int] = []
        out.reserveCapacity(k)
        for i in 0..<n where chosen[i] { out.append(i) }
        return out
    }

    /// The k-th largest value (1-based) by quickselect; reorders `a`.
    static func kthLargest(_ a: inout [Float], _ k: Int) -> Float {
        var lo = 0, hi = a.count - 1
        let target = k - 1                        // index in descending order
        while lo < hi {
            // Median of three as pivot keeps sorted inputs linear.
            let mid = lo + (hi - lo) / 2
            let pivot = median(a[lo], a[mid], a[hi])
            var i = lo, j = hi
            while i <= j {
                while a[i] > pivot { i += 1 }
                while a[j] < pivot { j -= 1 }
                if i <= j { a.swapAt(i, j); i += 1; j -= 1 }
            }
            if target <= j { hi = j } else if target >= i { lo = i } else { return a[target] }
        }
        return a[target]
    }

    private static func median(_ x: Float, _ y: Float, _ z: Float) -> Float {
        max(min(x, y), min(max(x, y), z))
    }
}
