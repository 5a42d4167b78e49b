import Foundation
import XCTest
import Evaluation
import Policies
@testable import Experiments

/// fig12, table2 and policy-quality run every configuration under both accuracy
/// protocols, in the quick and default profiles, with the same policies.
final class ArtifactProtocolSpecTests: XCTestCase {
    func testBothProtocolsWithTheSamePolicies() throws {
        let specs: [any ExperimentSpec] = [Fig12Spec(), Table2Spec(), PolicyQualitySpec()]
        for spec in specs {
            for profile in [RunProfile.quick, .default] {
                let configs = spec.configurations(profile: profile)
                let byProtocol = Dictionary(grouping: configs) { (try? $0.string("protocol")) ?? "none" }
                XCTAssertEqual(Set(byProtocol.keys), ["decode", "artifact"], "\(spec.id) \(profile)")
                func policies(_ p: String) -> Set<String> { Set(byProtocol[p]!.compactMap { try? $0.string("policy") }) }
                // Every artifact configuration is a decode configuration too, and runs under masks.
                XCTAssertTrue(policies("artifact").isSubset(of: policies("decode")), "\(spec.id)")
                for c in byProtocol["artifact"]! { XCTAssertNoThrow(try ArtifactMethod.parse(try c.string("policy")), "\(c)") }
            }
        }
        // fig12 and table2: nothing left out under the artifact protocol.
        for spec in [Fig12Spec(), Table2Spec()] as [any ExperimentSpec] {
            let c = spec.configurations(profile: .default)
            XCTAssertEqual(c.filter { $0["protocol"] == "artifact" }.count, c.filter { $0["protocol"] == "decode" }.count, spec.id)
        }
        // policy-quality: the methods the mask simulation does not cover stay decode-only.
        let pq = PolicyQualitySpec().configurations(profile: .quick).filter { $0["protocol"] == "artifact" }
        let keys = Set(pq.compactMap { try? $0.string("method") })
        XCTAssertTrue(keys.isDisjoint(with: ["flexgen", "streaming", "quest"]))
        XCTAssertTrue(keys.isSuperset(of: ["full", "h2o", "quant4", "oracle", "infinigen"]))
    }

    func testProtocolOfOldConfigurationsIsDecode() {
        let c: Configuration = ["policy": .string("full")]
        XCTAssertEqual(AccuracyProtocol.of(c), .decode)
        XCTAssertFalse(AccuracyProtocol.artifactSupports("quest:budget=0.2"))
        XCTAssertTrue(AccuracyProtocol.artifactSupports("infinigen:budget=0.2,pool=0.8,eviction=lru"))
    }
}
