import Foundation
import XCTest
@testable import Report

final class AtomicFileTests: XCTestCase {
    func testCreatesDirectoriesOverwritesAndLeavesNoTempFiles() throws {
        let dir = try temporaryDirectory()
        let target = dir.appendingPathComponent("a/b/c.txt")
        try AtomicFile.write("first", to: target)
        try AtomicFile.write("second", to: target)
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "second")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: target.deletingLastPathComponent().path)
        XCTAssertEqual(siblings, ["c.txt"], "temporary files must be renamed away")
    }

    func testFailureIsAOneLineError() throws {
        let dir = try temporaryDirectory()
        let blocker = dir.appendingPathComponent("file")
        try Data().write(to: blocker)
        // A regular file where a directory is needed.
        XCTAssertThrowsError(try AtomicFile.write("x", to: blocker.appendingPathComponent("x.txt"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot create directory"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        // The blocking file is untouched by the failed write.
        XCTAssertEqual(try Data(contentsOf: blocker), Data())
    }

    func testConcurrentWritersNeverProduceAMixedFile() throws {
        let dir = try temporaryDirectory()
        let target = dir.appendingPathComponent("shared.txt")
        let a = String(repeating: "A", count: 200_000), b = String(repeating: "B", count: 200_000)
        DispatchQueue.concurrentPerform(iterations: 20) { i in
            try? AtomicFile.write(i % 2 == 0 ? a : b, to: target)
        }
        let text = try String(contentsOf: target, encoding: .utf8)
        XCTAssertTrue(text == a || text == b)
    }
}

final class CSVTests: XCTestCase {
    func testRFC4180Quoting() {
        XCTAssertEqual(CSVTable.escape("plain"), "plain")
        XCTAssertEqual(CSVTable.escape("a,b"), "\"a,b\"")
        XCTAssertEqual(CSVTable.escape("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSVTable.escape("two\nlines"), "\"two\nlines\"")
        XCTAssertEqual(CSVTable.escape("crlf\r\nx"), "\"crlf\r\nx\"")
        XCTAssertEqual(CSVTable.escape(" padded"), "\" padded\"")
        XCTAssertEqual(CSVTable.escape(""), "")
    }

    func testTableRenderingAndRowWidthCheck() throws {
        var table = CSVTable(header: ["scheme", "latency_s"])
        try table.append(["FlexGen, INT4", CSVTable.format(0.1)])
        try table.append(["UVM", CSVTable.format(553.0)])
        XCTAssertEqual(table.rendered(), "scheme,latency_s\n\"FlexGen, INT4\",0.1\nUVM,553.0\n")
        XCTAssertThrowsError(try table.append(["only one"])) {
            XCTAssertEqual("\($0)", "CSV row has 1 fields, header has 2")
        }
        XCTAssertEqual(CSVTable.format(.nan), "NaN")
    }
}

final class JSONValueTests: XCTestCase {
    func testCanonicalFormSortsKeysAndKeepsIntsApartFromDoubles() {
        let value: JSONValue = .object(["b": .int(4), "a": .double(4), "c": .array([.double(0.1), .double(1e-5)])])
        XCTAssertEqual(value.rendered(pretty: false), #"{"a":4.0,"b":4,"c":[0.1,1e-05]}"#)
        XCTAssertEqual(value.rendered(), """
        {
          "a": 4.0,
          "b": 4,
          "c": [0.1, 1e-05]
        }

        """)
    }

    func testShortestRoundTripDoubles() throws {
        for d in [0.1, 1.0 / 3.0, 1e300, -2.5e-308, 123456789.125, 5e-324] {
            let text = JSONValue.double(d).rendered(pretty: false)
            XCTAssertEqual(try JSONValue.parse(text), .double(d), text)
        }
        XCTAssertEqual(JSONValue.double(0.1).rendered(pretty: false), "0.1")
    }

    func testRoundTripOfNestedDocumentWithEscapes() throws {
        let value: JSONValue = .object([
            "text": .string("quote \" backslash \\ newline \n tab \t nul \u{0} é 🎉"),
            "list": .array([.null, .bool(true), .bool(false), .int(-7), .object([:]), .array([])]),
            "nested": .object(["x": .array([.object(["y": .double(-0.5)])])]),
        ])
        for pretty in [true, false] {
            XCTAssertEqual(try JSONValue.parse(value.rendered(pretty: pretty)), value)
        }
        XCTAssertEqual(try JSONValue.parse(#""\ud83c\udf89""#), .string("🎉"))
    }

    func testNonFiniteNumbersBecomeStringsThatReadBackAsDoubles() throws {
        let text = JSONValue.array([.double(.nan), .double(.infinity), .double(-.infinity)]).rendered(pretty: false)
        XCTAssertEqual(text, #"["NaN","Infinity","-Infinity"]"#)
        let parsed = try JSONValue.parse(text).arrayValue!
        XCTAssertTrue(parsed[0].doubleValue!.isNaN)
        XCTAssertEqual(parsed[1].doubleValue, .infinity)
    }

    func testInvalidJSONGivesOneLineErrors() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "01x", "{\"a\":1,\"a\":2}", "[1] 2"] {
            XCTAssertThrowsError(try JSONValue.parse(bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("invalid JSON at byte"), "\(error)")
            }
        }
        let deep = String(repeating: "[", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(deep))
    }

    func testEncodableBridge() throws {
        struct Sample: Codable, Equatable { var name: String; var ratio: Double; var missing: Double? }
        let json = try JSONValue(encoding: Sample(name: "x", ratio: 0.25, missing: nil))
        XCTAssertEqual(json.rendered(pretty: false), #"{"name":"x","ratio":0.25}"#)
        XCTAssertEqual(try json.decode(Sample.self), Sample(name: "x", ratio: 0.25, missing: nil))
        XCTAssertThrowsError(try JSONValue.object([:]).decode(Sample.self)) {
            XCTAssertTrue("\($0)".contains("missing key 'name'"), "\($0)")
        }
    }
}
