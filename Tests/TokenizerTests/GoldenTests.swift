import Foundation
import XCTest
import TestSupport
@testable import Tokenizer

/// Real SmolLM2 vocabulary against ids from HF `tokenizers` (scripts/tokenizer/make_golden.py).
final class GoldenTests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
            let ids_special: [Int]
        }
        let reference: String
        let vocab_size: Int
        let merges: Int
        let cases: [Case]
    }

    static func golden() throws -> Golden {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "tricky_golden", withExtension: "json", subdirectory: "Fixtures"),
                                "Fixtures/tricky_golden.json missing from the test bundle")
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    func testVocabularyMatchesGoldenSource() throws {
        let tok = try RealModel.tokenizer()
        let golden = try Self.golden()
        XCTAssertEqual(tok.vocabularySize, golden.vocab_size)
        XCTAssertEqual(tok.mergeCount, golden.merges)
        XCTAssertEqual(tok.bosID, 1)
        XCTAssertEqual(tok.eosID, 2)
        XCTAssertEqual(tok.preTokenizer, .smollm)
        XCTAssertGreaterThanOrEqual(golden.cases.count, 60)
    }

    func testGoldenPlain() throws {
        let tok = try RealModel.tokenizer()
        for c in try Self.golden().cases {
            XCTAssertEqual(tok.encode(c.text), c.ids, "text: \(c.text.debugDescription)")
        }
    }

    func testGoldenParseSpecial() throws {
        let tok = try RealModel.tokenizer()
        for c in try Self.golden().cases {
            XCTAssertEqual(tok.encode(c.text, parseSpecial: true), c.ids_special,
                           "text: \(c.text.debugDescription)")
        }
    }

    func testRoundTrip() throws {
        let tok = try RealModel.tokenizer()
        for c in try Self.golden().cases {
            // Compare bytes: String == is canonical equivalence and would hide
            // "e\u{301}" coming back as "é".
            XCTAssertEqual(Array(tok.decode(tok.encode(c.text)).utf8), Array(c.text.utf8),
                           "text: \(c.text.debugDescription)")
            XCTAssertEqual(Array(tok.decode(tok.encode(c.text, parseSpecial: true)).utf8),
                           Array(c.text.utf8), "special, text: \(c.text.debugDescription)")
        }
    }

    func testChatPromptControlTokens() throws {
        let tok = try RealModel.tokenizer()
        let prompt = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        let ids = tok.encode(prompt, parseSpecial: true)
        XCTAssertEqual(tok.id(of: "<|im_start|>"), 1)
        XCTAssertEqual(tok.id(of: "<|im_end|>"), 2)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(ids.filter { $0 == 1 }.count, 2)
        XCTAssertEqual(ids.filter { $0 == 2 }.count, 1)
        XCTAssertFalse(tok.encode(prompt).contains(1), "control tokens must not match as plain text")
        XCTAssertEqual(tok.decode(ids, skipSpecial: true), "user\nHi\nassistant\n")
    }

    func testStreamingReassemblesSplitEmoji() throws {
        let tok = try RealModel.tokenizer()
        let text = "family 👨‍👩‍👧‍👦, flag 🇫🇷, robot 🤖 and 日本語"
        let ids = tok.encode(text)
        // Only meaningful if some token really ends inside a character.
        XCTAssertTrue(ids.contains { String(validatingUTF8CString: tok.tokenBytes($0)) == nil },
                      "expected at least one token that is not valid UTF-8 on its own")
        var stream = StreamingDecoder(tokenizer: tok)
        var pieces: [String] = []
        for id in ids { pieces.append(stream.push(id)) }
        pieces.append(stream.finish())
        XCTAssertFalse(pieces.joined().unicodeScalars.contains("\u{FFFD}"))
        XCTAssertFalse(pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") })
        XCTAssertEqual(Array(pieces.joined().utf8), Array(text.utf8))
    }
}

private extension String {
    /// Strict UTF-8 validation (nil when the bytes are not complete valid UTF-8).
    init?(validatingUTF8CString bytes: [UInt8]) {
        var it = bytes.makeIterator()
        var codec = UTF8()
        var out = String.UnicodeScalarView()
        while true {
            switch codec.decode(&it) {
            case let .scalarValue(s): out.append(s)
            case .emptyInput: self = String(out); return
            case .error: return nil
            }
        }
    }
}
