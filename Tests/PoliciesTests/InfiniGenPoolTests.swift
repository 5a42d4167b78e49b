import XCTest
@testable import Policies

/// The host pool on hand-made sequences whose answers were worked out on paper.
final class InfiniGenPoolTests: XCTestCase {
    func testCapacityIsCeilingOfFractionWithoutRoundingNoise() {
        var pool = HostPool(fraction: 0.7, eviction: .fifo)
        for p in 0..<10 { pool.insert(p) }
        XCTAssertEqual(pool.capacity, 7, "0.7 x 10 is 7 even though the double product is 7.000000000000001")
        XCTAssertEqual(pool.resident.count, 7)
        var full = HostPool(fraction: 1, eviction: .counter)
        for p in 0..<50 { XCTAssertNil(full.insert(p)) }
        XCTAssertFalse(full.evicts)
    }

    func testFIFOEvictsOldestInserted() {
        // Capacities ceil(0.5 n) for n = 1...6: 1 1 2 2 3 3.
        var pool = HostPool(fraction: 0.5, eviction: .fifo)
        let evicted = (0..<6).map { pool.insert($0) }
        XCTAssertEqual(evicted, [nil, 0, nil, 1, nil, 2])
        XCTAssertEqual(pool.resident, [3, 4, 5])
        XCTAssertEqual(pool.evictedCount, 3)
        XCTAssertFalse(pool.isResident(2))
        XCTAssertTrue(pool.isResident(3))
    }

    /// Capacities ceil(0.75 n) for n = 1...8: 1 2 3 3 4 5 6 6, so insertions 3 and 7 evict.
    /// Fetches: {0} at 2, {0, 2} at 3, {1} at 4, then {3} at 5.
    private func run(_ eviction: HostPool.Eviction) -> (first: Int?, second: Int?, pool: HostPool) {
        var pool = HostPool(fraction: 0.75, eviction: eviction)
        for p in 0..<3 { XCTAssertNil(pool.insert(p)) }
        pool.recordFetch([0], time: 2)
        pool.recordFetch([0, 2], time: 3)
        pool.recordFetch([1], time: 4)
        let first = pool.insert(3)
        pool.recordFetch([3], time: 5)
        for p in 4..<7 { XCTAssertNil(pool.insert(p), "no eviction at \(p)") }
        let second = pool.insert(7)
        return (first, second, pool)
    }

    func testFIFOOnTheFetchSequence() {
        let r = run(.fifo)
        XCTAssertEqual(r.first, 0)
        XCTAssertEqual(r.second, 1)
        XCTAssertEqual(r.pool.resident, [2, 3, 4, 5, 6, 7])
    }

    func testLRUEvictsLeastRecentlyFetchedOfOlderHalf() {
        let r = run(.lru)
        // Resident [0,1,2,3]; older half [0,1]; last fetch 0 -> 3, 1 -> 4: evict 0.
        XCTAssertEqual(r.first, 0)
        // Resident [1..7]; older half [1,2,3]; last fetch 1 -> 4, 2 -> 3, 3 -> 5: evict 2.
        XCTAssertEqual(r.second, 2)
        XCTAssertEqual(r.pool.resident, [1, 3, 4, 5, 6, 7])
    }

    func testCounterEvictsLeastFetchedOfOlderHalf() {
        let r = run(.counter)
        // Resident [0,1,2,3]; older half [0,1]; counts 0 -> 2, 1 -> 1: evict 1.
        XCTAssertEqual(r.first, 1)
        // Resident [0,2,3,4,5,6,7]; older half [0,2,3]; counts 2, 1, 1: tie, oldest (2).
        XCTAssertEqual(r.second, 2)
        XCTAssertEqual(r.pool.resident, [0, 3, 4, 5, 6, 7])
    }

    func testNeverFetchedIsOldestForLRUAndTheOlderHalfIsProtected() {
        var pool = HostPool(fraction: 0.5, eviction: .lru)
        pool.insert(0)
        pool.recordFetch([0], time: 0)
        // n = 2, capacity 1: older half is [0] alone, so 0 goes although 1 was never fetched.
        XCTAssertEqual(pool.insert(1), 0)
        pool.insert(2)                             // n = 3, capacity 2: [1, 2]
        pool.recordFetch([1], time: 2)
        // n = 4, capacity 2: resident [1,2,3], older half [1]: 1 goes despite its fetch.
        XCTAssertEqual(pool.insert(3), 1)
        pool.insert(4)                             // n = 5, capacity 3: [2, 3, 4]
        pool.recordFetch([2], time: 4)
        // n = 6, capacity 3: resident [2,3,4,5], older half [2,3]: 3 never fetched.
        XCTAssertEqual(pool.insert(5), 3)
    }

    func testEvictedTokensIgnoreFetches() {
        var pool = HostPool(fraction: 0.5, eviction: .counter)
        pool.insert(0)
        XCTAssertEqual(pool.insert(1), 0)
        pool.recordFetch([0, 1], time: 1)
        XCTAssertEqual(pool.history(of: 0).count, 0, "evicted: its KV is gone from host memory")
        XCTAssertEqual(pool.history(of: 1).count, 1)
        XCTAssertEqual(pool.history(of: 1).last, 1)
    }
}
