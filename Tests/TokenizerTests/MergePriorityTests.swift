import XCTest
@testable import Tokenizer

/// BPE merge order on hand-made vocabularies (no model needed).
final class MergePriorityTests: XCTestCase {
    private func texts(_ tok: BPETokenizer, _ ids: [Int]) -> [String] { ids.map { tok.tokenText($0)! } }

    func testLowerRankMergesFirst() throws {
        let extra = ["ab", "bc", "abc"]
        // "b c" outranks "a b": abc -> a + bc -> abc.
        let bcFirst = try TinyVocab.make(extra: extra, merges: ["b c", "a b", "a bc"])
        XCTAssertEqual(texts(bcFirst, bcFirst.encode("abc")), ["abc"])
        // "a b" outranks "b c": abc -> ab + c, and no rule joins "ab c".
        let abFirst = try TinyVocab.make(extra: extra, merges: ["a b", "b c", "a bc"])
        XCTAssertEqual(texts(abFirst, abFirst.encode("abc")), ["ab", "c"])
    }

    func testEqualRankTiesGoLeftmost() throws {
        let tok = try TinyVocab.make(extra: ["aa", "aaaa"], merges: ["a a", "aa aa"])
        XCTAssertEqual(texts(tok, tok.encode("aaa")), ["aa", "a"])
        XCTAssertEqual(texts(tok, tok.encode("aaaa")), ["aaaa"])
        XCTAssertEqual(texts(tok, tok.encode("aaaaa")), ["aaaa", "a"])
    }

    func testMergesRebuildAfterEachStep() throws {
        // Only after "l o" and "lo w" does "Ġ low" become possible.
        let tok = try TinyVocab.make(extra: ["lo", "low", "Ġlow", "er", "Ġlower"],
                                     merges: ["l o", "lo w", "Ġ low", "e r", "Ġlow er"])
        XCTAssertEqual(texts(tok, tok.encode(" lower")), ["Ġlower"])
        XCTAssertEqual(texts(tok, tok.encode("lowest")), ["low", "e", "s", "t"])
    }

    func testMergesNeverCrossWords() throws {
        let tok = try TinyVocab.make(extra: ["ab"], merges: ["a b"])
        // "a" and "b" are separate pre-tokens ("a", "!", "b"), so no "ab".
        XCTAssertEqual(texts(tok, tok.encode("a!b")), ["a", "!", "b"])
        XCTAssertEqual(texts(tok, tok.encode("ab")), ["ab"])
    }

    func testLongWordIsLinearEnough() throws {
        // A single 200k-byte word (no spaces) must not take quadratic time.
        let tok = try TinyVocab.make(extra: ["aa", "aaaa"], merges: ["a a", "aa aa"])
        let ids = tok.encode(String(repeating: "a", count: 200_001))
        XCTAssertEqual(ids.count, 50_001)
        XCTAssertEqual(tok.decode(ids).count, 200_001)
    }
}
