import XCTest
@testable import Tokenizer

/// The hand-written scanner against what the GPT-2 regex (after digit
/// isolation for smollm) matches.
final class PreTokenizerTests: XCTestCase {
    private func words(_ text: String, _ kind: PreTokenizerKind = .smollm) -> [String] {
        let bytes = Array(text.utf8)
        return PreTokenizer(kind: kind).split(bytes, 0..<bytes.count).map {
            String(decoding: bytes[$0], as: UTF8.self)
        }
    }

    func testWordsKeepOneLeadingSpace() {
        XCTAssertEqual(words("Hello world"), ["Hello", " world"])
        XCTAssertEqual(words("Hello, world!"), ["Hello", ",", " world", "!"])
    }

    func testWhitespaceRunsLeaveLastSpaceToNextWord() {
        XCTAssertEqual(words("a  b"), ["a", " ", " b"])
        XCTAssertEqual(words("a    b"), ["a", "   ", " b"])
        XCTAssertEqual(words("x   "), ["x", "   "])
        XCTAssertEqual(words("   "), ["   "])
        XCTAssertEqual(words("\n\nHi"), ["\n", "\n", "Hi"])
        XCTAssertEqual(words("a \n b"), ["a", " \n", " b"])
        XCTAssertEqual(words("a\t!"), ["a", "\t", "!"])
    }

    func testContractionsAreCaseSensitive() {
        XCTAssertEqual(words("I'm you're we've he'd they'll it's don't"),
                       ["I", "'m", " you", "'re", " we", "'ve", " he", "'d", " they", "'ll", " it", "'s", " don", "'t"])
        XCTAssertEqual(words("DON'T"), ["DON", "'", "T"])
        XCTAssertEqual(words("!!'s"), ["!!'", "s"])
        XCTAssertEqual(words(" 's"), [" '", "s"])
        XCTAssertEqual(words("don’t"), ["don", "’", "t"])
    }

    func testDigitsAreIsolatedForSmolLM() {
        XCTAssertEqual(words("a 123"), ["a", " ", "1", "2", "3"])
        XCTAssertEqual(words("a  1"), ["a", "  ", "1"])
        XCTAssertEqual(words("x²½Ⅻ٣"), ["x", "²", "½", "Ⅻ", "٣"])
        XCTAssertEqual(words("a 123", .gpt2), ["a", " 123"])
    }

    func testUnicodeClasses() {
        XCTAssertEqual(words("cafe\u{301}"), ["cafe", "\u{301}"])
        XCTAssertEqual(words("a\u{3000}b\u{a0}c"), ["a", "\u{3000}", "b", "\u{a0}", "c"])
        XCTAssertEqual(words("zero\u{200b}width"), ["zero", "\u{200b}", "width"])
        XCTAssertEqual(words("नमस्ते"), ["नमस", "्", "त", "े"])
        XCTAssertEqual(words("日本語。"), ["日本語", "。"])
        XCTAssertEqual(words("hi 👍🏽!"), ["hi", " 👍🏽!"])
    }

    func testEmptyInput() {
        XCTAssertEqual(words(""), [])
    }
}
