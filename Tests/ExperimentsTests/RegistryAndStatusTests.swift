import Foundation
import XCTest
import Report
@testable import Experiments

final class RegistryAndStatusTests: XCTestCase {
    func testUnknownAndDuplicateIds() throws {
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "fig4", state: ToyState()))
        try registry.register(ToySpec(id: "fig14", state: ToyState()))
        XCTAssertThrowsError(try registry.select(["fig4", "fig99"])) {
            XCTAssertEqual("\($0)", "unknown experiment 'fig99'; known: fig4, fig14")
        }
        XCTAssertThrowsError(try registry.register(ToySpec(id: "fig4", state: ToyState()))) {
            XCTAssertEqual("\($0)", "experiment 'fig4' registered twice")
        }
        XCTAssertThrowsError(try registry.register(ToySpec(id: "a/b", state: ToyState())))
        XCTAssertEqual(try registry.select(["fig14", "fig4"]).map(\.id), ["fig4", "fig14"], "registry order")
        XCTAssertEqual(try registry.select(nil).map(\.id), ["fig4", "fig14"])
    }

    func testListStates() async throws {
        let dir = try temporaryDirectory()
        let state = ToyState()
        let registry = ExperimentRegistry()
        try registry.register(ToySpec(id: "toy", state: state))
        func status() throws -> ExperimentStatus { try makeRunner(registry, root: dir).status()[0] }

        XCTAssertEqual(try status().state, .notRun)
        XCTAssertEqual(try status().outputs, .absent)

        state.failAtRun(3)
        _ = try? await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(try status().state, .partial)
        XCTAssertEqual(try status().cached, 2)

        state.failAtRun(nil)
        try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(try status().state, .cached)
        XCTAssertEqual(try status().outputs, .current)

        state.codeVersion = "toy-2"
        XCTAssertEqual(try status().state, .stale)
        XCTAssertEqual(try status().cached, 0)

        try await makeRunner(registry, root: dir).reproduce()
        XCTAssertEqual(try status().state, .cached)

        // Outputs made with another profile are judged against that profile's keys.
        let defaultStatus = try makeRunner(registry, root: dir, profile: .default).status()[0]
        XCTAssertEqual(defaultStatus.state, .partial)
        XCTAssertEqual(defaultStatus.outputs, .current)
    }

    func testConfigurationCanonicalFormAndAccessors() throws {
        let c: Configuration = ["layer": 12, "alpha": 4.0, "scheme": "h2o", "skew": true]
        XCTAssertEqual(c.canonicalJSON, #"{"alpha":4.0,"layer":12,"scheme":"h2o","skew":true}"#)
        XCTAssertEqual(c.label, "alpha=4.0 layer=12 scheme=h2o skew=true")
        XCTAssertEqual(try Configuration(json: try JSONValue.parse(c.canonicalJSON)), c)
        XCTAssertEqual(try c.double("layer"), 12)
        XCTAssertThrowsError(try c.int("alpha")) {
            XCTAssertEqual("\($0)", "parameter 'alpha' is 4.0, expected an integer (alpha=4.0 layer=12 scheme=h2o skew=true)")
        }
        XCTAssertThrowsError(try c.string("missing"))
        // Codable keeps 4.0 a double (tagged form).
        let data = try JSONEncoder().encode(c)
        XCTAssertEqual(try JSONDecoder().decode(Configuration.self, from: data), c)
        XCTAssertThrowsError(try (["x": .double(.nan)] as Configuration).validate())
    }

    func testResourcePoolBuildsOnce() async throws {
        let pool = ResourcePool()
        let state = ToyState()
        for _ in 0..<3 {
            let v = try await pool.value("model", as: Int.self) { state.offset += 1; return 42 }
            XCTAssertEqual(v, 42)
        }
        XCTAssertEqual(state.offset, 1)
        do {
            _ = try await pool.value("model", as: String.self) { "x" }
            XCTFail()
        } catch {
            XCTAssertTrue("\(error)".contains("holds a Int, not a String"), "\(error)")
        }
    }
}
