import XCTest
@testable import Offload

final class HardwareProfileTests: XCTestCase {
    func testBundledProfilesLoadAndValidate() throws {
        XCTAssertEqual(HardwareProfile.bundledNames, ["a100-80gb-pcie4", "a6000-pcie3", "gh200-nvlink-c2c", "h100-pcie5"])
        for name in HardwareProfile.bundledNames {
            let p = try HardwareProfile.load(named: name)
            XCTAssertEqual(p.name, name)
            XCTAssertLessThan(p.h2dPageableGBps, p.h2dPinnedGBps, name)
        }
        let box = try HardwareProfile.load(named: "a6000-pcie3")
        XCTAssertEqual(box.deviceMemoryGiB, 48)
        XCTAssertEqual(box.hostCPUCores, 12)
    }

    private func json(removing field: String? = nil, setting: (String, Any)? = nil) throws -> Data {
        let data = try JSONEncoder().encode(Fixtures.hardware())
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        if let field { object.removeValue(forKey: field) }
        if let (key, value) = setting { object[key] = value }
        return try JSONSerialization.data(withJSONObject: object)
    }

    func testMissingFieldIsOneLineNamingFieldAndFile() throws {
        XCTAssertThrowsError(try HardwareProfile.decode(json(removing: "h2d_pinned_gb_per_s"), file: "box.json")) { error in
            XCTAssertEqual("\(error)", "hardware profile box.json: field 'h2d_pinned_gb_per_s' is missing")
        }
    }

    func testNonPositiveNumberIsRejected() throws {
        XCTAssertThrowsError(try HardwareProfile.decode(json(setting: ("uvm_fault_us", -3)), file: "box.json")) { error in
            XCTAssertEqual("\(error)", "hardware profile box.json: field 'uvm_fault_us' must be a positive number (got -3.0)")
        }
        XCTAssertThrowsError(try HardwareProfile.decode(json(setting: ("host_cpu_cores", 0)), file: "box.json")) { error in
            XCTAssertTrue("\(error)".contains("'host_cpu_cores' must be a positive number"))
        }
    }

    func testWrongTypeAndOutOfRangeEfficiency() throws {
        XCTAssertThrowsError(try HardwareProfile.decode(json(setting: ("device_memory_gib", "lots")), file: "b.json")) { error in
            XCTAssertEqual("\(error)", "hardware profile b.json: field 'device_memory_gib' has the wrong type")
        }
        XCTAssertThrowsError(try HardwareProfile.decode(json(setting: ("device_matmul_efficiency", 1.5)), file: "b.json")) { error in
            XCTAssertTrue("\(error)".contains("'device_matmul_efficiency' is a fraction"))
        }
    }

    func testEveryNumberNeedsASource() {
        var p = Fixtures.hardware()
        p.sources.removeValue(forKey: "host_gather_gb_per_s")
        XCTAssertThrowsError(try p.validate(file: "p.json")) { error in
            XCTAssertEqual("\(error)", "hardware profile p.json: field 'host_gather_gb_per_s' has no entry in 'sources'")
        }
    }

    func testWriteThenLoadRoundTrips() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("nested/this.json")
        let p = Fixtures.hardware()
        try p.write(to: url)
        try p.write(to: url) // replacing an existing file goes through the same path
        XCTAssertEqual(try HardwareProfile.load(from: url), p)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        XCTAssertEqual(leftovers, ["this.json"], "no temporary file left behind")
        XCTAssertThrowsError(try HardwareProfile.load(from: dir.appendingPathComponent("absent.json"))) { error in
            XCTAssertTrue("\(error)".contains("absent.json: cannot read"))
        }
    }
}
