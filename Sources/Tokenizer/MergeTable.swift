/// BPE merge rules keyed by the pair of token ids they join.
///
/// Working on ids rather than strings keeps the inner loop free of string
/// building and hashing; the rank (line number in the merges list) decides
/// which pair merges first, lower is earlier.
struct MergeTable: Sendable {
    private var rules: [UInt64: UInt64] = [:]

    var count: Int { rules.count }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Adds `left right -> merged` with the given rank; an earlier rule for the
    /// same pair wins, as in HF tokenizers.
    mutating func add(left: Int32, right: Int32, merged: Int32, rank: Int) {
        let k = Self.key(left, right)
        if rules[k] == nil {
            rules[k] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(bitPattern: merged))
        }
    }

    @inline(__always)
    func rule(_ left: Int32, _ right: Int32) -> (rank: Int32, merged: Int32)? {
        guard let v = rules[Self.key(left, right)] else { return nil }
        return (Int32(truncatingIfNeeded: v >> 32), Int32(truncatingIfNeeded: v))
    }

    /// Applies the merges to a word given as initial symbol ids.
    ///
    /// Lowest rank first, ties broken by leftmost position (HF tokenizers and
    /// llama.cpp agree on this). Symbols live in a linked list over the initial
    /// slots and candidate pairs in a min-heap, so a word costs O(n log n).
    func apply(_ symbols: [Int32]) -> [Int32] {
        let n = symbols.count
        if n < 2 { return symbols }
        var ids = symbols
        var next = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(i + 1) }
            buf[n - 1] = -1
            count = n
        }
        var prev = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(i - 1) }
            count = n
        }
        var heap = CandidateHeap()
        for i in 0..<(n - 1) {
            if let r = rule(ids[i], ids[i + 1]) {
                heap.push(Candidate(rank: r.rank, left: Int32(i), leftID: ids[i], rightID: ids[i + 1], merged: r.merged))
            }
        }
        while let top = heap.pop() {
            let l = Int(top.left)
            let r = Int(next[l])
            // Stale candidates: a neighbour already merged into something else.
            guard r >= 0, ids[l] == top.leftID, ids[r] == top.rightID else { continue }
            ids[l] = top.merged
            ids[r] = -1
            let rn = next[r]
            next[l] = rn
            if rn >= 0 { prev[Int(rn)] = Int32(l) }
            let p = prev[l]
            if p >= 0, let pr = self.rule(ids[Int(p)], ids[l]) {
                heap.push(Candidate(rank: pr.rank, left: p, leftID: ids[Int(p)], rightID: ids[l], merged: pr.merged))
            }
            if rn >= 0, let nr = self.rule(ids[l], ids[Int(rn)]) {
                heap.push(Candidate(rank: nr.rank, left: Int32(l), leftID: ids[l], rightID: ids[Int(rn)], merged: nr.merged))
            }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        var i: Int32 = 0
        while i >= 0 {
            out.append(ids[Int(i)])
            i = next[Int(i)]
        }
        return out
    }
}

struct Candidate {
    var rank: Int32
    var left: Int32
    var leftID: Int32
    var rightID: Int32
    var merged: Int32

    @inline(__always)
    static func precedes(_ a: Candidate, _ b: Candidate) -> Bool {
        a.rank != b.rank ? a.rank < b.rank : a.left < b.left
    }
}

/// Minimal binary min-heap ordered by (rank, position).
struct CandidateHeap {
    private var items: [Candidate] = []

    mutating func push(_ c: Candidate) {
        items.append(c)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Candidate.precedes(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Candidate? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var i = 0
        let n = items.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            var m = l
            if l + 1 < n, Candidate.precedes(items[l + 1], items[l]) { m = l + 1 }
            guard Candidate.precedes(items[m], items[i]) else { break }
            items.swapAt(i, m)
            i = m
        }
        return first
    }
}
