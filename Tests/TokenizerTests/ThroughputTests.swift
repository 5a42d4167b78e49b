import Foundation
import XCTest
import TestSupport
@testable import Tokenizer

/// Encode speed and lossless round trip on the Wikipedia sample.
/// Release builds encode the whole file; debug builds a 256 KB prefix.
final class ThroughputTests: XCTestCase {
    func testWikipediaSample() throws {
        let tok = try RealModel.tokenizer()
        let full = try RealModel.wikiText()
        #if DEBUG
        let text = String(full.utf8.prefix(256 * 1024)) ?? String(full.prefix(200_000))
        #else
        let text = full
        #endif
        let start = Date()
        let ids = tok.encode(text)
        let seconds = Date().timeIntervalSince(start)
        let mb = Double(text.utf8.count) / 1_000_000
        print(String(format: "tokenizer: %.2f MB -> %d tokens in %.3f s (%.0f tokens/s, %.2f MB/s)",
                     mb, ids.count, seconds, Double(ids.count) / seconds, mb / seconds))
        XCTAssertEqual(Array(tok.decode(ids).utf8), Array(text.utf8))
        // Sanity: English prose runs at roughly 3-5 bytes per token.
        let bytesPerToken = Double(text.utf8.count) / Double(ids.count)
        XCTAssertGreaterThan(bytesPerToken, 2.5)
        XCTAssertLessThan(bytesPerToken, 6)
    }
}
