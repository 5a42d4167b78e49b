import Foundation

/// InfiniGen's CPU-side KV pool for one (layer, KV head): which token positions still
/// have their K/V in host memory. Capacity is a fraction of the tokens inserted so far;
/// once the pool is full, each new token evicts one resident token, and an evicted token
/// can never be fetched again.
///
/// Eviction (paper section 4.4):
/// - `fifo`: the oldest inserted token;
/// - `lru`: among the older half of the resident tokens (by insertion), the one whose last
///   fetch is oldest — a never-fetched token counts as older than any fetch;
/// - `counter`: among the older half, the one fetched least often.
/// Ties go to the oldest inserted token, which keeps runs deterministic.
public struct HostPool: Sendable, Equatable {
    public enum Eviction: String, Sendable, CaseIterable {
        case fifo, lru, counter
    }

    /// Capacity as a fraction of the tokens inserted so far (0 < fraction ≤ 1).
    public let fraction: Double
    public let eviction: Eviction
    /// Resident positions, oldest inserted first (so also ascending: positions arrive in order).
    public private(set) var resident: [Int] = []
    /// Tokens inserted so far, evicted ones included.
    public private(set) var inserted = 0
    private var isIn: [Bool] = []
    private var lastFetch: [Int] = []
    private var fetchCount: [Int] = []

    public init(fraction: Double, eviction: Eviction) {
        precondition(fraction > 0 && fraction <= 1, "pool fraction must be in (0, 1]")
        self.fraction = fraction
        self.eviction = eviction
    }

    /// ceil(fraction × inserted), with a little slack so that 0.7 × 10 is 7, not 8.
    public var capacity: Int { Int((fraction * Double(inserted) - 1e-9).rounded(.up)) }

    /// Whether fetch history can ever matter (a full-size pool never evicts).
    public var evicts: Bool { fraction < 1 }

    public var evictedCount: Int { inserted - resident.count }

    public func isResident(_ position: Int) -> Bool {
        position >= 0 && position < isIn.count && isIn[position]
    }

    /// Adds the token at `position` (the next one: positions arrive in increasing order)
    /// and returns the position it evicted, if the pool was full.
    @discardableResult
    public mutating func insert(_ position: Int) -> Int? {
        precondition(position >= isIn.count, "pool positions must arrive in increasing order")
        while isIn.count <= position {
            isIn.append(false)
            lastFetch.append(-1)
            fetchCount.append(0)
        }
        isIn[position] = true
        resident.append(position)
        inserted += 1
        guard resident.count > capacity else { return nil }
        let index = victimIndex()
        let victim = resident.remove(at: index)
        isIn[victim] = false
        return victim
    }

    /// Records that `positions` were fetched to the device at `time` (a query position).
    public mutating func recordFetch<S: Sequence>(_ positions: S, time: Int) where S.Element: BinaryInteger {
        for p in positions {
            let i = Int(p)
            guard isResident(i) else { continue }
            lastFetch[i] = time
            fetchCount[i] += 1
        }
    }

    /// How often `position` was fetched, and when last (-1: never).
    public func history(of position: Int) -> (count: Int, last: Int) {
        guard position >= 0 && position < isIn.count else { return (0, -1) }
        return (fetchCount[position], lastFetch[position])
    }

    private func victimIndex() -> Int {
        switch eviction {
        case .fifo:
            return 0
        case .lru, .counter:
            // The older half protects tokens that have had no chance to be fetched yet.
            let half = max(1, resident.count / 2)
            var best = 0
            for i in 1..<half {
                let p = resident[i], b = resident[best]
                let better = eviction == .lru ? lastFetch[p] < lastFetch[b] : fetchCount[p] < fetchCount[b]
                if better { best = i }
            }
            return best
        }
    }
}
