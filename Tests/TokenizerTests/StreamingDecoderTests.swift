import XCTest
@testable import Tokenizer

final class StreamingDecoderTests: XCTestCase {
    func testHoldsBackIncompleteCharacters() throws {
        let tok = try TinyVocab.make(extra: [], merges: [])  // bytes only
        let ids = tok.encode("a😀é")
        XCTAssertEqual(ids.count, 1 + 4 + 2)
        var stream = StreamingDecoder(tokenizer: tok)
        let pieces = ids.map { stream.push($0) }
        XCTAssertEqual(pieces, ["a", "", "", "", "😀", "", "é"])
        XCTAssertEqual(stream.pendingByteCount, 0)
        XCTAssertEqual(stream.finish(), "")
    }

    func testFinishFlushesTruncatedCharacter() throws {
        let tok = try TinyVocab.make(extra: [], merges: [])
        let ids = tok.encode("😀")
        var stream = StreamingDecoder(tokenizer: tok)
        XCTAssertEqual(ids.dropLast().map { stream.push($0) }.joined(), "")
        XCTAssertEqual(stream.pendingByteCount, 3)
        XCTAssertEqual(stream.finish(), "\u{FFFD}")
    }

    func testInvalidBytesAreNotHeldForever() throws {
        let tok = try TinyVocab.make(extra: [], merges: [])
        var stream = StreamingDecoder(tokenizer: tok)
        // A stray continuation byte (0x80) cannot start a character: emit at once.
        XCTAssertEqual(stream.push(0x80), "\u{FFFD}")
        XCTAssertEqual(stream.push(Int(UInt8(ascii: "a"))), "a")
    }

    func testPrefixLengthRule() {
        XCTAssertEqual(StreamingDecoder.completePrefixLength([]), 0)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x61]), 1)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x61, 0xF0, 0x9F]), 1)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0xF0, 0x9F, 0x98, 0x80]), 4)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0xC3]), 0)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x80, 0x80, 0x80, 0x80]), 4)
    }
}
