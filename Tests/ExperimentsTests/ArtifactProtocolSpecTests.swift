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
                // GQA modes are decode-only (the masks select per query head): compared without them.
                func policies(_ p: String) -> Set<String> {
                    Set(byProtocol[p]!.compactMap { try? $0.string("policy") }.map {
                        $0.replacingOccurrences(of: ",gqa=[a-z-]+", with: "", options: .regularExpression)
                    })
                }
                XCTAssertTrue(byProtocol["artifact"]!.allSatisfy { $0["gqa"] == nil && !((try? $0.string("policy")) ?? "").contains("gqa=") },
                              "\(spec.id): a GQA mode under masks")
                // Every artifact configuration is a decode configuration too, and runs under masks.
                XCTAssertTrue(policies("artifact").isSubset(of: policies("decode")), "\(spec.id)")
                for c in byProtocol["artifact"]! { XCTAssertNoThrow(try ArtifactMethod.parse(try c.string("policy")), "\(c)") }
            }
        }
        // table2: nothing left out under the artifact protocol.
        let t2 = Table2Spec().configurations(profile: .default)
        XCTAssertEqual(t2.filter { $0["protocol"] == "artifact" }.count, t2.filter { $0["protocol"] == "decode" }.count)
        // fig12: every method under masks; under decode InfiniGen and H2O once per GQA mode, the same modes for both.
        let f12 = Fig12Spec().configurations(profile: .default)
        XCTAssertEqual(f12.filter { $0["protocol"] == "artifact" }.count, 3)
        for m in ["infinigen", "h2o"] {
            let modes = f12.filter { $0["protocol"] == "decode" && $0["method"] == .string(m) }.compactMap { try? $0.string("gqa") }
            XCTAssertEqual(modes, Fig12Spec.gqaModes, m)
        }
        for c in f12 where c["gqa"] != nil {
            XCTAssertTrue(try c.string("policy").hasSuffix(",gqa=" + c.string("gqa")), "\(c)")
            XCTAssertNoThrow(try PolicyRegistry.parse(try c.string("policy")))
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
