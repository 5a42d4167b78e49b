import Foundation
import XCTest
import Report
import Policies
@testable import Experiments

/// The few-shot accuracy figures (fig11, fig13, fig17-accuracy): well-formed configurations
/// in every profile, and a tiny real run through the runner.
final class FewShotExpSpecTests: XCTestCase {
    static let specs: [any ExperimentSpec] = [Fig11Spec(), Fig13Spec(), Fig17AccuracySpec()]

    func testEveryConfigurationIsOneTaskMethodPairWithAValidPolicy() throws {
        for spec in Self.specs {
            for profile in RunProfile.allCases {
                let configs = spec.configurations(profile: profile)
                XCTAssertFalse(configs.isEmpty, "\(spec.id) \(profile)")
                XCTAssertEqual(Set(configs.map(\.canonicalJSON)).count, configs.count, "\(spec.id) \(profile): duplicates")
                for c in configs {
                    try c.validate()
                    XCTAssertEqual(Set(c.parameters.keys), ["task", "method", "items", "shots"], "\(c)")
                    XCTAssertTrue(["piqa", "openbookqa", "winogrande", "copa", "rte"].contains(try c.string("task")))
                    XCTAssertEqual(try c.int("shots"), 5)
                    let items = try c.int("items")
                    switch profile {
                    case .quick: XCTAssertTrue((1...3).contains(items), "quick runs stay tiny: \(c)")
                    case .default: XCTAssertEqual(items, FewShot5.defaultItems(try c.string("task")))
                    case .full: XCTAssertEqual(items, 0, "full scores every item")
                    }
                    let method = try c.string("method")
                    if method != "full" { XCTAssertNoThrow(try PolicyRegistry.parse(method), method) }
                }
            }
        }
    }

    func testSweepsCoverThePapersSettings() throws {
        let fig11 = Fig11Spec().configurations(profile: .default)
        XCTAssertEqual(Set(try fig11.map { try $0.string("task") }).count, 5)
        let methods = Set(try fig11.map { try $0.string("method") })
        XCTAssertEqual(methods.count, 16)
        for total in [0.5, 0.25, 0.125, 0.0625] {
            let (_, v) = try PolicyRegistry.parse(Fig11Spec.h2o(total))
            XCTAssertEqual(v.real("heavy"), total / 2)
            XCTAssertEqual(v.real("recent"), total / 2)
        }
        XCTAssertTrue(Set(["quant:bits=8", "quant:bits=4", "quant:bits=2", "quant:bits=1", "full"]).isSubset(of: methods))
        XCTAssertEqual(methods.filter { $0.hasPrefix("infinigen") }.count, 4)

        let fig13 = Set(try Fig13Spec().configurations(profile: .default).map { try $0.string("method") })
        for m in fig13 where m != "full" {
            let (_, v) = try PolicyRegistry.parse(m)
            XCTAssertEqual(v.real("ratio"), 0.1)
            XCTAssertEqual(v.real("budget"), 0.2)
            XCTAssertEqual(v.real("alpha"), 100, "alpha large so that the budget binds")
        }
        XCTAssertEqual(Set(try fig13.filter { $0 != "full" }.map { try PolicyRegistry.parse($0).values.flag("skew") }), [true, false])

        let fig17 = try Fig17AccuracySpec().configurations(profile: .default).map { try $0.string("method") }
        let parsed = try fig17.filter { $0 != "full" }.map { try PolicyRegistry.parse($0).values }
        XCTAssertEqual(Set(parsed.filter { $0.real("ratio") == 0.2 }.map { $0.real("alpha") }), Set((1...9).map(Double.init)))
        XCTAssertEqual(Set(parsed.filter { $0.real("alpha") == 5 }.map { $0.real("ratio") }),
                       Set((1...10).map { Double($0) / 10 }))
        XCTAssertTrue(try Fig17AccuracySpec().configurations(profile: .full).allSatisfy { try $0.string("task") == "winogrande" })
    }

    /// Two COPA items through the runner: accuracy, read fractions that follow from the
    /// methods' budgets, and a summary with plots and a table.
    func testQuickRunThroughTheRunner() async throws {
        let dir = try temporaryDirectory()
        let registry = ExperimentRegistry()
        try registry.register(Fig11Spec())
        try await makeRunner(registry, root: dir, profile: .quick, render: false).reproduce()
        let artifact = try ExperimentArtifact.load(dir.appendingPathComponent("artifacts/fig11.json"))
        XCTAssertEqual(artifact.results.count, Fig11Spec().configurations(profile: .quick).count)
        func record(_ method: String) throws -> ResultRecord {
            try XCTUnwrap(artifact.results.first { $0.configuration["method"] == .string(method) }?.record, method)
        }
        let full = try record("full")
        XCTAssertEqual(full.double("kv_bytes_relative"), 1)
        XCTAssertEqual(full.double("agreement_with_full"), 1)
        XCTAssertEqual(full.double("mean_abs_loglik_delta"), 0)
        XCTAssertEqual(full.value("items"), .int(2))
        for r in artifact.results {
            let acc = try XCTUnwrap(r.record.double("acc"))
            XCTAssertTrue([0, 0.5, 1].contains(acc), "2 items: \(acc)")
            XCTAssertEqual(r.record.series("item_correct")?.y.count, 2)
        }
        // H2O at 25% total: rows read well below full, above the 25% budget because layers
        // 0-1 read everything and early positions hold fewer tokens than the rounded-up budget.
        let h2o = try XCTUnwrap(record(Fig11Spec.h2o(0.25)).double("kv_read_fraction"))
        XCTAssertGreaterThan(h2o, 0.25)
        XCTAssertLessThan(h2o, 0.45)
        // 2-bit quantization reads every row at a fraction of the bytes.
        let q = try record(Fig11Spec.quant(2))
        XCTAssertEqual(q.double("kv_read_fraction"), 1)
        let spare = 2.0 / 30, bytes = 2 * (64 * 2.0 / 8 + 4) / 256   // K and V: 2-bit payload + fp16 scale and min
        XCTAssertEqual(try XCTUnwrap(q.double("kv_bytes_relative")), spare + (1 - spare) * bytes, accuracy: 1e-9)
        let ig = try record(Fig11Spec.infinigen(4, 0.2))
        let managed = try XCTUnwrap(ig.double("kv_read_fraction_managed"))
        XCTAssertLessThanOrEqual(managed, 0.2 + 0.02, "budget 0.2 caps the fetched tokens (rounded up)")
        XCTAssertEqual(try XCTUnwrap(ig.double("retain_ratio")), 1 - (1 - managed).squareRoot(), accuracy: 1e-12)

        let output = try Fig11Spec().summarize(artifact.results)
        XCTAssertEqual(output.plots.map(\.id), ["fig11"])
        for plot in output.plots { XCTAssertNoThrow(try plot.validate()) }
        XCTAssertEqual(output.tables.first?.rows.count, artifact.results.count)
        XCTAssertTrue(output.text.contains("copa 2"))
    }
}
