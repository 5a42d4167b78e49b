import XCTest
@testable import Policies

final class PoliciesSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
