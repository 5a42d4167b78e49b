import XCTest
@testable import Tokenizer

final class TokenizerSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
