import XCTest
@testable import Report

final class ReportSmokeTests: XCTestCase {
    func testModuleLinks() { XCTAssertTrue(true) }
}
