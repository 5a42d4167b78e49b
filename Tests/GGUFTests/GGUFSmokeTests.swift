import XCTest
@testable import GGUF

final class GGUFSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
