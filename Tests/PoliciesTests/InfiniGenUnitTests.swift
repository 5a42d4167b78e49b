import XCTest
@testable import Policies

/// InfiniGen's pieces that need no model: column variants, top-k, threshold, parameters.
final class InfiniGenUnitTests: XCTestCase {
    // Columns 0...7; query favours 1, 3, 5; key favours 0, 2, 3; the sum favours 3, 1, 2.
    let q: [Float] = [0.1, 5.0, 0.2, 4.0, 0.3, 3.0, 0.0, 0.0]
    let k: [Float] = [6.0, 0.0, 5.0, 4.5, 0.0, 0.0, 1.0, 0.0]

    func testColumnVariants() {
        XCTAssertEqual(PartialColumns.choose(.query, queryMagnitude: q, keyMagnitude: k, count: 3), [1, 3, 5])
        // Sums: 6.1 5 5.2 8.5 0.3 3 1 0.
        XCTAssertEqual(PartialColumns.choose(.sum, queryMagnitude: q, keyMagnitude: k, count: 3), [0, 2, 3])
        XCTAssertEqual(PartialColumns.choose(.union, queryMagnitude: q, keyMagnitude: k, count: 3), [0, 1, 2, 3, 5])
        XCTAssertEqual(PartialColumns.choose(.sum, queryMagnitude: q, keyMagnitude: k, count: 8), Array(0..<8))
    }

    func testColumnTiesGoToLowerIndex() {
        let flat = [Float](repeating: 1, count: 6)
        XCTAssertEqual(PartialColumns.choose(.query, queryMagnitude: flat, keyMagnitude: flat, count: 2), [0, 1])
        XCTAssertEqual(PartialColumns.choose(.union, queryMagnitude: flat, keyMagnitude: flat, count: 2), [0, 1])
    }

    /// Each KV head ranks positions by the max over its query heads; ties go to the lower
    /// position; the result is ascending (TopK itself is tested in TopKTests).
    func testTopPositionsUseTheGroupMaximum() {
        // Two query heads, t = 5: head 0 favours position 1, head 1 position 3.
        let scores: [Float] = [0, 9, 1, 1, 2,
                               0, 0, 1, 8, 2]
        scores.withUnsafeBufferPointer { p in
            let s = p.baseAddress!
            XCTAssertEqual(InfiniGenPolicy.topPositions(s, groupSize: 2, t: 5, resident: nil, k: 2), [1, 3])
            XCTAssertEqual(InfiniGenPolicy.topPositions(s, groupSize: 2, t: 5, resident: nil, k: 3), [1, 3, 4])
            XCTAssertEqual(InfiniGenPolicy.topPositions(s, groupSize: 2, t: 5, resident: [0, 2, 4], k: 2), [2, 4])
            XCTAssertEqual(InfiniGenPolicy.topPositions(s, groupSize: 2, t: 5, resident: nil, k: 0), [])
        }
    }

    func testThresholdCountIsStrictAndSkipsEvicted() {
        let row: [Float] = [0, 4, 10, 6, 5]
        row.withUnsafeBufferPointer { p in
            let r = p.baseAddress!
            XCTAssertEqual(InfiniGenPolicy.thresholdCount(r, t: 5, resident: nil, alpha: 5), 2, "10 and 6 exceed 5; 5 does not")
            XCTAssertEqual(InfiniGenPolicy.thresholdCount(r, t: 5, resident: nil, alpha: 0), 0)
            XCTAssertEqual(InfiniGenPolicy.thresholdCount(r, t: 5, resident: nil, alpha: 100), 5)
            // Without position 2 the max is 6: 4, 6 and 5 exceed 6 - 3.
            XCTAssertEqual(InfiniGenPolicy.thresholdCount(r, t: 5, resident: [0, 1, 3, 4], alpha: 3), 3)
        }
    }

    func testGroupScoreIsMaxOverHeads() {
        // Two heads over t = 4: head 0 likes position 0, head 1 likes position 3.
        let scores: [Float] = [9, 1, 2, 0,
                               0, 1, 2, 8]
        scores.withUnsafeBufferPointer { p in
            let r = p.baseAddress!
            XCTAssertEqual(InfiniGenPolicy.topPositions(r, groupSize: 2, t: 4, resident: nil, k: 2), [0, 3])
            XCTAssertEqual(InfiniGenPolicy.topPositions(r, groupSize: 2, t: 4, resident: [1, 2, 3], k: 2), [2, 3])
            XCTAssertEqual(InfiniGenPolicy.topPositions(r, groupSize: 2, t: 4, resident: nil, k: 0), [])
        }
    }

    func testParametersParseAndCanonicalise() throws {
        XCTAssertEqual(try PolicyRegistry.canonical("infinigen"),
                       "infinigen:ratio=0.2,columns=sum,skew=true,alpha=5.0,count=mean,budget=0.2,max-kv=0,pool=1.0,eviction=counter,gqa=max,spare=2")
        let (_, values) = try PolicyRegistry.parse("infinigen:ratio=0.1,columns=union,skew=false,alpha=4,count=per-head,budget=0,max-kv=409,pool=0.8,eviction=lru,spare=3")
        let s = try InfiniGenSettings(values, layers: 30)
        XCTAssertEqual(s.ratio, 0.1)
        XCTAssertEqual(s.columns, .union)
        XCTAssertFalse(s.skew)
        XCTAssertEqual(s.alpha, 4)
        XCTAssertEqual(s.count, .perHead)
        XCTAssertEqual(s.budget, 0)
        XCTAssertEqual(s.maxKV, 409)
        XCTAssertEqual(s.pool, 0.8)
        XCTAssertEqual(s.eviction, .lru)
        XCTAssertEqual(s.spare, 3)
        XCTAssertEqual(s.partialWidth(headDim: 64), 6)
        XCTAssertEqual(try InfiniGenSettings(PolicyRegistry.parse("infinigen").values, layers: 30).partialWidth(headDim: 64), 12)
    }

    func testBadParametersGiveOneLineErrors() throws {
        let cases: [(String, String)] = [
            ("infinigen:ratio=0.01", "infinigen: parameter 'ratio' must be in 0.05...1.0 (got '0.01')"),
            ("infinigen:columns=keys", "infinigen: parameter 'columns' must be in query|union|sum (got 'keys')"),
            ("infinigen:eviction=random", "infinigen: parameter 'eviction' must be in fifo|lru|counter (got 'random')"),
            ("infinigen:count=max", "infinigen: parameter 'count' must be in mean|per-head (got 'max')"),
            ("infinigen:alpha=-1", "infinigen: parameter 'alpha' must be in 0.0...100.0 (got '-1')"),
            ("infinigen:pool=0", "infinigen: parameter 'pool' must be in 0.05...1.0 (got '0')"),
            ("infinigen:max-kv=-3", "infinigen: parameter 'max-kv' must be in 0...1000000 (got '-3')"),
            ("infinigen:skew=maybe", "infinigen: parameter 'skew' must be in true|false (got 'maybe')"),
        ]
        for (spec, message) in cases {
            XCTAssertThrowsError(try PolicyRegistry.parse(spec), spec) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertThrowsError(try InfiniGenSettings(PolicyRegistry.parse("infinigen:spare=0").values, layers: 30)) {
            XCTAssertEqual("\($0)", "infinigen: spare must be at least 1 (layer 0 has no earlier layer to speculate from)")
        }
        XCTAssertThrowsError(try InfiniGenSettings(PolicyRegistry.parse("infinigen:spare=31").values, layers: 30)) {
            XCTAssertEqual("\($0)", "infinigen: spare=31 exceeds the model's 30 layers")
        }
    }

    func testStatsFraction() {
        var totals = InfiniGenTotals()
        XCTAssertEqual(totals.selectedFraction, 0)
        totals.earlier = 40
        totals.selected = 10
        XCTAssertEqual(totals.selectedFraction, 0.25)
    }
}
