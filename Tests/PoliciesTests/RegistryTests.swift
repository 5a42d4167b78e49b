import XCTest
@testable import Model
@testable import Policies

final class RegistryTests: XCTestCase {
    private func message(_ spec: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try PolicyRegistry.make(spec, model: Tiny.model())
            XCTFail("\(spec) should be rejected", file: file, line: line)
            return ""
        } catch {
            let text = "\(error)"
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
            return text
        }
    }

    func testMethodsAreRegistered() throws {
        for name in ["full", "flexgen", "quant", "h2o", "streaming", "quest", "oracle"] {
            XCTAssertTrue(PolicyRegistry.names.contains(name), name)
            let type = try PolicyRegistry.method(named: name)
            XCTAssertFalse(type.summary.isEmpty)
            for p in type.parameters { XCTAssertFalse(p.help.isEmpty, "\(name).\(p.name)") }
        }
        XCTAssertEqual(try PolicyRegistry.canonical("h2o"), "h2o:heavy=0.1,recent=0.1,heavy-tokens=0,recent-tokens=0,gqa=sum,spare=2")
        XCTAssertEqual(try PolicyRegistry.canonical("quant"), "quant:bits=4,group=64,spare=2")
        XCTAssertEqual(try PolicyRegistry.canonical("streaming"), "streaming:sinks=4,budget=0.2,budget-tokens=0,spare=2")
        XCTAssertEqual(try PolicyRegistry.canonical("quest"), "quest:page=16,budget=0.2,gqa=sum,spare=2")
        XCTAssertEqual(try PolicyRegistry.canonical("oracle"), "oracle:budget=0.2,k=0,top-p=0.0,gqa=sum,spare=2")
    }

    func testSpareSetsTheFirstManagedLayer() throws {
        let model = Tiny.model()
        for name in ["flexgen", "quant", "h2o", "streaming", "quest", "oracle"] {
            XCTAssertEqual(try Run.policy(name, model).firstManagedLayer, 2, name)
            XCTAssertEqual(try Run.policy("\(name):spare=0", model).firstManagedLayer, 0, name)
        }
    }

    func testRejectsUnknownNamesAndBadParameters() {
        XCTAssertTrue(message("lru").contains("unknown KV policy 'lru'"))
        let cases: [(String, [String])] = [
            ("h2o:heavy=1.5", ["'heavy'", "0.0...1.0", "1.5"]),
            ("h2o:recent-tokens=-1", ["'recent-tokens'", "0...1000000"]),
            ("h2o:heavy=abc", ["'heavy'", "abc"]),
            ("quant:bits=3", ["'bits'", "8|4|2|1"]),
            ("quant:group=48", ["'group'", "8|16|32|64|128|256"]),
            ("quant:group=128", ["'group'", "head_dim 64", "128"]),
            ("quest:page=0", ["'page'", "1...4096"]),
            ("quest:budget=0", ["'budget'", "0.01...1.0"]),
            ("oracle:top-p=2", ["'top-p'", "0.0...1.0"]),
            ("streaming:sinks=x", ["'sinks'", "0...1000000"]),
            ("streaming:spare=99", ["'spare'", "0...64"]),
            ("oracle:window=3", ["no parameter 'window'"]),
        ]
        for (spec, fragments) in cases {
            let text = message(spec)
            for f in fragments { XCTAssertTrue(text.contains(f), "\(spec): '\(text)' lacks \(f)") }
        }
    }
}
