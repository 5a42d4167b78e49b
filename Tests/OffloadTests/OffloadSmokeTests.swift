import XCTest
@testable import Offload

final class OffloadSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
