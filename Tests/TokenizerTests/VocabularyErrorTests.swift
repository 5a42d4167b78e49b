import XCTest
@testable import Tokenizer

/// Malformed vocabularies are rejected with a one-line reason.
final class VocabularyErrorTests: XCTestCase {
    private func assertThrows(_ expected: TokenizerError, _ body: () throws -> BPETokenizer,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? TokenizerError, expected, file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), file: file, line: line)
        }
    }

    func testRejectsBadInput() {
        let bytes = TinyVocab.byteTokens
        assertThrows(.emptyVocabulary) {
            try BPETokenizer(tokens: [], merges: [], bosID: nil, eosID: nil, unkID: nil)
        }
        assertThrows(.malformedMerge(index: 0, merge: "ab")) {
            try BPETokenizer(tokens: bytes, merges: ["ab"], bosID: nil, eosID: nil, unkID: nil)
        }
        assertThrows(.mergeTokenMissing(index: 0, merge: "a b", token: "ab")) {
            try BPETokenizer(tokens: bytes, merges: ["a b"], bosID: nil, eosID: nil, unkID: nil)
        }
        assertThrows(.tokenTypeCountMismatch(tokens: 256, types: 2)) {
            try BPETokenizer(tokens: bytes, merges: [], tokenTypes: [1, 1], bosID: nil, eosID: nil, unkID: nil)
        }
        assertThrows(.specialIDOutOfRange(name: "eos", id: 256, vocabularySize: 256)) {
            try BPETokenizer(tokens: bytes, merges: [], bosID: 0, eosID: 256, unkID: nil)
        }
        assertThrows(.missingByteToken(byte: 0)) {
            try BPETokenizer(tokens: Array(bytes.dropFirst()), merges: [], bosID: nil, eosID: nil, unkID: nil)
        }
        assertThrows(.unsupportedModel("llama")) {
            try .fromMetadata(model: "llama", pre: "smollm", tokens: bytes, merges: [], types: nil,
                              bosID: nil, eosID: nil, unkID: nil)
        }
        assertThrows(.unsupportedPreTokenizer("qwen2")) {
            try .fromMetadata(model: "gpt2", pre: "qwen2", tokens: bytes, merges: [], types: nil,
                              bosID: nil, eosID: nil, unkID: nil)
        }
    }

    func testMissingByteTokensFallBackToUnknown() throws {
        let tokens = ["<unk>"] + TinyVocab.byteTokens.filter { $0 != "z" }
        let tok = try BPETokenizer(tokens: tokens, merges: [], bosID: nil, eosID: nil, unkID: 0)
        XCTAssertEqual(tok.encode("az"), [tok.id(of: "a")!, 0])
    }
}
