import XCTest
@testable import Evaluation

final class FewShotMetricTests: XCTestCase {
    func testStandardErrorIsLmEvalsStderrOfTheMean() {
        let m = FewShotMetric(hits: 30, count: 50)
        XCTAssertEqual(m.value, 0.6)
        XCTAssertEqual(m.stderr!, (0.6 * 0.4 / 49).squareRoot(), accuracy: 1e-15)
        XCTAssertNil(FewShotMetric(hits: 1, count: 1).stderr)
        XCTAssertEqual(FewShotMetric(hits: 0, count: 0).value, 0)
        XCTAssertEqual(FewShotMetric(hits: 4, count: 4).stderr, 0)
    }

    func testRecordPredictionsRawAndPerCharacter() {
        // Raw: choice 1 (-5 > -8). Per character: -8/20 = -0.4 > -5/5 = -1, so choice 0.
        let r = FewShotRecord(id: 7, gold: 0, loglikelihoods: [-8, -5], continuationCharacters: [20, 5],
                              tokenCounts: [[10, 4], [10, 2]])
        XCTAssertEqual(r.predicted, 1)
        XCTAssertEqual(r.predictedNorm, 0)
        XCTAssertFalse(r.correct)
        XCTAssertTrue(r.correctNorm)
        // Ties go to the lower index.
        XCTAssertEqual(FewShotRecord.firstArgmax([-1, -1, -2]), 0)
        XCTAssertEqual(FewShotRecord.firstArgmax([-3, -1, -1]), 1)
    }

    func testResultAggregates() {
        let records = [
            FewShotRecord(id: 0, gold: 0, loglikelihoods: [-1, -2], continuationCharacters: [1, 1], tokenCounts: [[1, 1], [1, 1]]),
            FewShotRecord(id: 1, gold: 1, loglikelihoods: [-1, -2], continuationCharacters: [1, 4], tokenCounts: [[1, 1], [1, 1]]),
        ]
        let result = FewShotResult(task: "t", shots: 0, notes: "", records: records, tokensProcessed: 4, forwardCalls: 1, seconds: 0)
        XCTAssertEqual(result.accuracy.value, 0.5)
        XCTAssertEqual(result.accuracyNorm.value, 1.0)
        XCTAssertEqual(result.accuracy.stderr!, 0.5, accuracy: 1e-12)
    }

    func testItemValidation() {
        XCTAssertThrowsError(try FewShotItem(id: 0, contexts: ["a"], continuations: [" b"], gold: 0))
        XCTAssertThrowsError(try FewShotItem(id: 0, contexts: ["a", "a"], continuations: [" b"], gold: 0))
        XCTAssertThrowsError(try FewShotItem(id: 0, contexts: ["a", ""], continuations: [" b", " c"], gold: 0))
        XCTAssertThrowsError(try FewShotItem(id: 0, contexts: ["a", "a"], continuations: [" b", " c"], gold: 2))
        XCTAssertNoThrow(try FewShotItem(id: 0, contexts: ["a", "a"], continuations: [" b", " c"], gold: 1))
    }
}
