import XCTest
@testable import Tokenizer

final class SpecialTokenTests: XCTestCase {
    /// "<|x|>" and "<|xy|>" are control tokens, "<u>" is user-defined.
    private func tokenizer() throws -> BPETokenizer {
        try TinyVocab.make(extra: ["<|x|>", "<|xy|>", "<u>", "hi"], merges: ["h i"], types: [3, 3, 4, 1])
    }

    func testControlTokensMatchOnlyWhenAsked() throws {
        let tok = try tokenizer()
        let x = tok.id(of: "<|x|>")!
        XCTAssertEqual(tok.encode("<|x|>hi", parseSpecial: true), [x, tok.id(of: "hi")!])
        XCTAssertFalse(tok.encode("<|x|>hi").contains(x))
        // No merges for "<|": the single bytes "<" "|" "x" "|" ">" then "hi".
        XCTAssertEqual(tok.encode("<|x|>hi").count, 6)
    }

    func testLongestSpecialWinsAndTextAroundIsSeparate() throws {
        let tok = try tokenizer()
        let xy = tok.id(of: "<|xy|>")!
        let x = tok.id(of: "<|x|>")!
        XCTAssertEqual(tok.encode("<|xy|><|x|>", parseSpecial: true), [xy, x])
        XCTAssertEqual(tok.encode(" <|x|> ", parseSpecial: true),
                       [tok.id(of: "Ġ")!, x, tok.id(of: "Ġ")!])
        XCTAssertEqual(tok.encode("<|x", parseSpecial: true).count, 3)
    }

    func testUserDefinedTokensAlwaysMatch() throws {
        let tok = try tokenizer()
        let u = tok.id(of: "<u>")!
        XCTAssertEqual(tok.encode("hi<u>"), [tok.id(of: "hi")!, u])
    }

    func testDecodeWritesControlTextUnlessSkipped() throws {
        let tok = try tokenizer()
        let ids = tok.encode("hi<|x|> there", parseSpecial: true)
        XCTAssertEqual(tok.decode(ids), "hi<|x|> there")
        XCTAssertEqual(tok.decode(ids, skipSpecial: true), "hi there")
    }

    func testOutOfRangeIdsDecodeAsReplacementCharacter() throws {
        let tok = try tokenizer()
        XCTAssertEqual(tok.decode([tok.id(of: "hi")!, -1, 1_000_000]), "hi\u{FFFD}\u{FFFD}")
        XCTAssertEqual(tok.tokenBytes(-5), [0xEF, 0xBF, 0xBD])
        XCTAssertNil(tok.tokenText(tok.vocabularySize))
    }
}
