import Foundation
import Numerics
import Policies

/// The artifact's mask conventions as pure functions over score matrices (row-major
/// L × L, only the causal part j ≤ i is read), so each can be tested without a model.
public enum MaskBuilder {
    /// The artifact's penalty for masked positions (`-10000`), also the speculated score of
    /// an evicted token.
    public static let penalty: Float = -10000

    /// InfiniGen's per-row fetch count: per query head, the positions j ≤ i whose
    /// approximate score reaches (row max - alpha), the max taken from query head 0 for
    /// every head (`headZeroMax`, the artifact's Llama quirk) or from the head itself;
    /// averaged over `heads` (all query heads, or one KV group's) and truncated.
    /// - Returns: per head in `approx`, the count of each row (heads in one averaging
    ///   group share a count).
    public static func fetchCounts(approx: [UnsafePointer<Float>], length L: Int, alpha: Float,
                                   headZeroMax: Bool, groupSize: Int) -> [[Int]] {
        let H = approx.count
        precondition(H % groupSize == 0)
        var rowMax = [[Float]](repeating: [Float](repeating: 0, count: L), count: H)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: L), count: H)
        for h in 0..<H {
            for i in 0..<L {
                let row = approx[h] + i * L
                var m = -Float.infinity
                for j in 0...i where row[j] > m { m = row[j] }
                rowMax[h][i] = m
            }
        }
        for h in 0..<H {
            for i in 0..<L {
                let threshold = (headZeroMax ? rowMax[0][i] : rowMax[h][i]) - alpha
                let row = approx[h] + i * L
                var n = 0
                for j in 0...i where row[j] >= threshold { n += 1 }
                counts[h][i] = n
            }
        }
        var out = counts
        for g in stride(from: 0, to: H, by: groupSize) {
            for i in 0..<L {
                var sum: Float = 0
                for h in g..<(g + groupSize) { sum += Float(counts[h][i]) }
                // torch.mean(...).to(int32): truncation toward zero.
                let k = Int(sum / Float(groupSize))
                for h in g..<(g + groupSize) { out[h][i] = k }
            }
        }
        return out
    }

    /// The host pool of table 2 (artifact `kv_cache_mask`): capacity int(c·L); after the
    /// selection of each row i ≥ capacity (but the last) one token per head is evicted.
    public struct Pool: Sendable, Equatable {
        public var capacity: Int
        public var eviction: HostPool.Eviction
        public init(capacity: Int, eviction: HostPool.Eviction) {
            self.capacity = capacity
            self.eviction = eviction
        }
    }

    /// One head's InfiniGen mask. Rows i < fetchMax read everything (`fullLeadingRows`);
    /// every other row takes its own top-k of the approximate scores over j ≤ i,
    /// k = min(counts[i], fetchMax, maxKV) (the current token only if it ranks). Evicted
    /// tokens keep a speculated score of -10000, so they are chosen only when k exceeds
    /// the resident ones, as in the artifact.
    public static func infinigen(approx: UnsafePointer<Float>, length L: Int, counts: [Int], fetchMax: Int,
                                 maxKV: Int = 0, fullLeadingRows: Bool = true, pool: Pool? = nil) -> HeadMask {
        var mask = HeadMask(length: L)
        var scratch = [Float](repeating: 0, count: L)
        var row = [Float](repeating: 0, count: L)
        var evicted = [Bool](repeating: false, count: L)
        // Fetch history for LRU (last fetching row, 0 when never) and Counter (how often).
        var lastFetch = [Int](repeating: 0, count: L)
        var fetchCount = [Int](repeating: 0, count: L)
        let tracks = pool.map { $0.eviction != .fifo } ?? false
        for i in 0..<L {
            if fullLeadingRows && i < fetchMax {
                mask.full[i] = true
                if tracks { for j in 0...i { lastFetch[j] = i; fetchCount[j] += 1 } }
                continue
            }
            var k = min(counts[i], fetchMax)
            if maxKV > 0 { k = min(k, maxKV) }
            if counts[i] >= fetchMax { mask.cappedRows += 1 }
            if k == 0 { mask.emptyRows += 1 }
            let src = approx + i * L
            for j in 0...i { row[j] = evicted[j] ? penalty : src[j] }
            mask.selected.withUnsafeMutableBufferPointer { sel in
                topK(row, count: i + 1, k: k, scratch: &scratch, into: sel.baseAddress! + i * L)
            }
            if tracks {
                let base = i * L
                for j in 0...i where mask.selected[base + j] != 0 { lastFetch[j] = i; fetchCount[j] += 1 }
            }
            guard let pool, i >= pool.capacity, i < L - 1 else { continue }
            let victim: Int
            switch pool.eviction {
            case .fifo:
                victim = i - pool.capacity
            case .lru, .counter:
                // argmin over the older half, positions < int(i/2), evicted ones included.
                let half = i / 2
                guard half > 0 else { continue }
                var best = 0
                for j in 1..<half {
                    let better = pool.eviction == .lru ? lastFetch[j] < lastFetch[best] : fetchCount[j] < fetchCount[best]
                    if better { best = j }
                }
                victim = best
            }
            // LRU and Counter may pick an already evicted token again: count tokens, not events.
            if !evicted[victim] { mask.evictions += 1 }
            evicted[victim] = true
        }
        return mask
    }

    /// One head's H2O mask (artifact `local_heavy_hitter_mask` plus the recent band):
    /// heavy and recent are fixed token counts. Rows i < heavy read everything; later rows
    /// keep the heavy - 1 positions with the highest accumulated score (summed from the
    /// unmasked softmax rows, reset for positions that drop out), their own token, and the
    /// band j ≥ i - recent.
    /// - Parameter scores: the true, scaled attention logits.
    public static func h2o(scores: UnsafePointer<Float>, length L: Int, heavy: Int, recent: Int) -> HeadMask {
        var mask = HeadMask(length: L)
        var accumulated = [Double](repeating: 0, count: L)
        var probs = [Float](repeating: 0, count: L)
        var keyed = [Float](repeating: 0, count: L)
        var scratch = [Float](repeating: 0, count: L)
        var chosen = [UInt8](repeating: 0, count: L)
        func softmaxRow(_ i: Int) {
            for j in 0...i { probs[j] = scores[i * L + j] }
            probs.withUnsafeMutableBufferPointer { _ = Kernels.softmax($0.baseAddress!, i + 1) }
        }
        for i in 0..<L {
            if heavy > 0 && i < heavy {
                mask.full[i] = true
                softmaxRow(i)
                for j in 0...i { accumulated[j] += Double(probs[j]) }
                continue
            }
            let base = i * L
            if heavy > 0 {
                // Positions ≥ heavy enter the accumulation only once selected.
                if i == heavy { for j in heavy..<L { accumulated[j] = 0 } }
                for j in 0..<i { keyed[j] = Float(accumulated[j]) }
                chosen.withUnsafeMutableBufferPointer { c in
                    c.baseAddress!.update(repeating: 0, count: L)
                    topK(keyed, count: i, k: heavy - 1, scratch: &scratch, into: c.baseAddress!)
                }
                chosen[i] = 1
                softmaxRow(i)
                for j in 0...i {
                    accumulated[j] = chosen[j] != 0 ? accumulated[j] + Double(probs[j]) : 0
                    if chosen[j] != 0 { mask.selected[base + j] = 1 }
                }
            }
            for j in max(0, i - recent)...i { mask.selected[base + j] = 1 }
        }
        return mask
    }

    /// One head's oracle mask: the k positions j ≤ i with the highest true score (all of
    /// them while i < k).
    public static func oracle(scores: UnsafePointer<Float>, length L: Int, k: Int) -> HeadMask {
        var mask = HeadMask(length: L)
        var scratch = [Float](repeating: 0, count: L)
        var row = [Float](repeating: 0, count: L)
        for i in 0..<L {
            if i + 1 <= k { mask.full[i] = true; continue }
            for j in 0...i { row[j] = scores[i * L + j] }
            mask.selected.withUnsafeMutableBufferPointer { sel in
                topK(row, count: i + 1, k: k, scratch: &scratch, into: sel.baseAddress! + i * L)
            }
        }
        return mask
    }

    /// Marks in `out[0..<count]` the k largest of `values[0..<count]`; ties go to the lower
    /// index (a strict order, so runs are deterministic).
    static func topK(_ values: [Float], count n: Int, k: Int, scratch: inout [Float], into out: UnsafeMutablePointer<UInt8>) {
        let k = min(max(k, 0), n)
        guard k > 0 else { return }
        if k == n { for j in 0..<n { out[j] = 1 }; return }
        for j in 0..<n { scratch[j] = values[j] }
        let kth = scratch.withUnsafeMutableBufferPointer { Kernels.kthLargest($0.baseAddress!, n, k) }
        var above = 0
        for j in 0..<n where values[j] > kth { above += 1 }
        var ties = k - above
        for j in 0..<n {
            if values[j] > kth { out[j] = 1 } else if values[j] == kth && ties > 0 { out[j] = 1; ties -= 1 }
        }
    }
}
