import Foundation
import XCTest
@testable import Tokenizer

/// One tokenizer shared by many threads (its word cache is locked) gives the
/// same ids as a fresh one used serially.
final class ConcurrencyTests: XCTestCase {
    func testConcurrentEncodesAgree() throws {
        let merges = ["a b", "ab c", "Ġ abc", "d e"]
        let shared = try TinyVocab.make(extra: ["ab", "abc", "Ġabc", "de"], merges: merges)
        let texts = (0..<64).map { i in String(repeating: "abc de \(i) ", count: i % 7 + 1) }
        let serial = try TinyVocab.make(extra: ["ab", "abc", "Ġabc", "de"], merges: merges)
        let expected = texts.map { serial.encode($0) }
        let results = ResultBox(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: texts.count) { i in
            results.set(i, shared.encode(texts[i]))
        }
        XCTAssertEqual(results.values, expected)
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [[Int]]
    init(count: Int) { storage = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Int]) { lock.lock(); storage[i] = v; lock.unlock() }
    var values: [[Int]] { lock.lock(); defer { lock.unlock() }; return storage }
}
