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
        try forEachConfiguration(of: Self.specs) { spec, profile, c in
            // Decode configurations carry no protocol key (they predate it); artifact ones name it.
            let artifact = c["protocol"] == "artifact"
            XCTAssertEqual(Set(c.parameters.keys), Set(["task", "method", "items", "shots"] + (artifact ? ["protocol"] : [])), "\(c)")
            XCTAssertTrue(["piqa", "openbookqa", "winogrande", "copa", "rte"].contains(try c.string("task")))
            XCTAssertEqual(try c.int("shots"), 5)
            let items = try c.int("items")
            switch profile {
            case .quick: XCTAssertTrue((1...3).contains(items), "quick runs stay tiny: \(c)")
            case .default: XCTAssertEqual(items, artifact ? FewShot5.artifactDefaultItems : FewShot5.defaultItems(try c.string("task")))
            case .full: XCTAssertEqual(items, 0, "full scores every item")
            }
            let method = try c.string("method")
            if method != "full" { XCTAssertNoThrow(try PolicyRegistry.parse(method), method) }
            if artifact { XCTAssertTrue(AccuracyProtocol.artifactSupports(method), method) }
        }
    }

    func testSweepsCoverThePapersSettings() throws {
        let fig11 = Fig11Spec().configurations(profile: .default)
        XCTAssertEqual(Set(try fig11.map { try $0.string("task") }).count, 5)
        let methods = Set(try fig11.map { try $0.string("method") })
        XCTAssertEqual(methods.count, 17)
        for total in [0.5, 0.25, 0.125, 0.0625] {
            let (_, v) = try PolicyRegistry.parse(Fig11Spec.h2o(total))
            XCTAssertEqual(v.real("heavy"), total / 2)
            XCTAssertEqual(v.real("recent"), total / 2)
        }
        XCTAssertTrue(Set(["quant:bits=8", "quant:bits=4", "quant:bits=2", "quant:bits=1", "full"]).isSubset(of: methods))
        XCTAssertEqual(methods.filter { $0.hasPrefix("infinigen") }.count, 5)
        XCTAssertEqual(try PolicyRegistry.parse(Fig11Spec.exactScoresMethod).values.real("ratio"), 1, "the diagnostic speculates exactly")

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
        // Decode points report their read fraction as the size; r = 1 - sqrt(1 - density) is for artifact masks only.
        XCTAssertEqual(try XCTUnwrap(ig.double("relative_kv_size")), managed, accuracy: 1e-12)
        XCTAssertNil(ig.double("retain_ratio"))

        // The artifact protocol's points: masks' density and its retain ratio, nothing shared with decode.
        let decode = artifact.results.filter { $0.configuration["protocol"] == nil }
        let masked = artifact.results.filter { $0.configuration["protocol"] == "artifact" }
        XCTAssertEqual(masked.count, 2)
        let maskedIG = try XCTUnwrap(masked.first { $0.configuration["method"] == .string(Fig11Spec.infinigen(4, 0.2)) }?.record)
        let density = try XCTUnwrap(maskedIG.double("density"))
        XCTAssertTrue(density > 0.2 && density < 1, "\(density): int(0.2 L) full leading rows, then capped rows")
        XCTAssertEqual(try XCTUnwrap(maskedIG.double("retain_ratio")), 1 - (1 - density).squareRoot(), accuracy: 1e-12)
        XCTAssertNil(maskedIG.double("relative_kv_size"))

        let output = try Fig11Spec().summarize(artifact.results)
        XCTAssertEqual(output.plots.map(\.id), ["fig11", "fig11-artifact"])
        for plot in output.plots { XCTAssertNoThrow(try plot.validate()) }
        XCTAssertEqual(output.tables.count, 4, "pooled and per-task tables per protocol")
        XCTAssertEqual(output.tables[1].rows.count, decode.count)
        XCTAssertEqual(output.tables[3].rows.count, masked.count)
        XCTAssertEqual(output.tables[0].rows.count, Set(decode.map { $0.configuration["method"] }).count,
                       "one pooled row per method")
        XCTAssertTrue(output.text.contains("**Decode protocol.**") && output.text.contains("**Artifact protocol (masks).**"))
        XCTAssertTrue(output.text.contains("copa 2"))
    }

    // MARK: verdicts

    /// A synthetic result: `correct` per item, with the finer measures and bytes given.
    static func result(_ task: String, _ method: String, correct: [Int], agreement: Double = 1, delta: Double = 0,
                       bytes: Double = 1) -> ExperimentResult {
        var r = ResultRecord()
        r.add("items", correct.count, .measured)
        r.add("acc", Double(correct.reduce(0, +)) / Double(correct.count), .measured)
        r.add("agreement_with_full", agreement, .measured)
        r.add("mean_abs_loglik_delta", delta, .measured)
        r.add("kv_bytes_relative", bytes, .measured)
        r.addSeries("item_correct", correct.map(Double.init), .measured)
        return ExperimentResult(configuration: FewShot5.configuration(task: task, method: method, items: correct.count), record: r)
    }

    func testPooledDifferenceIsPairedOverTheSameItems() {
        // Two tasks of 4 items, given in either order: pooling pairs them by task.
        let a = FewShot5.Pooled([.init(Self.result("copa", "a", correct: [1, 1, 0, 1])), .init(Self.result("piqa", "a", correct: [1, 1, 1, 0]))])
        let b = FewShot5.Pooled([.init(Self.result("piqa", "b", correct: [1, 0, 1, 0])), .init(Self.result("copa", "b", correct: [0, 1, 1, 1]))])
        XCTAssertEqual(a.items, 8)
        XCTAssertEqual(a.accuracy, 6.0 / 8)
        let d = b.difference(from: a)          // per item b - a, copa then piqa: [-1, 0, 1, 0, 0, -1, 0, 0]
        XCTAssertEqual(d.value, -1.0 / 8, accuracy: 1e-12)
        let mean = -1.0 / 8, ss = 2 * pow(-1 - mean, 2) + pow(1 - mean, 2) + 5 * pow(mean, 2)
        XCTAssertEqual(d.stderr, (ss / 7 / 8).squareRoot(), accuracy: 1e-12)
        XCTAssertFalse(FewShot5.resolved(d))
        // Only the items both scored are paired: a copa-only result against both tasks.
        let copaOnly = FewShot5.Pooled([.init(Self.result("copa", "c", correct: [1, 1, 1, 1]))])
        XCTAssertEqual(copaOnly.difference(from: a).value, 1.0 / 4, accuracy: 1e-12)
        XCTAssertTrue(FewShot5.resolved((value: -0.1, stderr: 0.04)))
        XCTAssertFalse(FewShot5.resolved((value: 0, stderr: 0)))
    }

    func testFig11VerdictFollowsTheNumbers() throws {
        let n = 100
        let ones = [Int](repeating: 1, count: n)
        let dropped = (0..<n).map { $0 % 3 == 0 ? 0 : 1 }           // a third lost: resolved
        func verdict(infinigenDelta: Double, h2o: [Int], exactDelta: Double? = nil) throws -> String {
            let exact = exactDelta.map { [Self.result("copa", Fig11Spec.exactScoresMethod, correct: ones, delta: $0, bytes: 0.19)] } ?? []
            let results = exact + [Self.result("copa", "full", correct: ones),
                           Self.result("copa", Fig11Spec.infinigen(2, 0.2), correct: ones, agreement: 0.9, delta: infinigenDelta, bytes: 0.18),
                           Self.result("copa", Fig11Spec.h2o(0.125), correct: h2o, agreement: 0.8, delta: 2, bytes: 0.17),
                           Self.result("copa", Fig11Spec.h2o(0.5), correct: ones, bytes: 0.55),
                           Self.result("copa", Fig11Spec.quant(2), correct: ones, agreement: 0.7, delta: 3, bytes: 0.2)]
            return try Fig11Spec().summarize(results).text
        }
        let holds = try verdict(infinigenDelta: 1, h2o: dropped)
        XCTAssertTrue(holds.contains("The claim holds here."), holds)
        XCTAssertTrue(holds.contains("; `h2o:heavy=0.0625,recent=0.0625` 17% of the bytes"), "the H2O point nearest in bytes: \(holds)")
        XCTAssertTrue(holds.contains("two standard errors: `h2o:heavy=0.0625,recent=0.0625` -34.0 ± 4.8 points"), holds)
        XCTAssertTrue(holds.contains("than the nearest H2O point at 1 of 1 points"), holds)
        let fails = try verdict(infinigenDelta: 2.5, h2o: ones)
        XCTAssertTrue(fails.contains("The claim does not hold here: at every InfiniGen point, H2O"), fails)
        XCTAssertTrue(fails.contains("two standard errors: none"), fails)
        XCTAssertFalse(fails.contains("Diagnostic"), "no exact-scores run, no diagnostic")
        let partialColumns = try verdict(infinigenDelta: 2.5, h2o: ones, exactDelta: 0.5)
        XCTAssertTrue(partialColumns.contains("the nearest H2O point at 0 of 1 points"), "the diagnostic is not an InfiniGen point: \(partialColumns)")
        XCTAssertTrue(partialColumns.contains("the loss comes from the partial query/key columns"), partialColumns)
        XCTAssertTrue(try verdict(infinigenDelta: 2.5, h2o: ones, exactDelta: 4).contains("the threshold-and-cap selection itself trails H2O"))
    }

    func testFig13AndFig17VerdictsFollowTheNumbers() throws {
        let n = 60
        let ones = [Int](repeating: 1, count: n), half = (0..<n).map { $0 % 2 }
        let skewHelps = try Fig13Spec().summarize([
            Self.result("copa", "full", correct: ones),
            Self.result("copa", Fig13Spec.method(skew: true), correct: ones, delta: 1),
            Self.result("copa", Fig13Spec.method(skew: false), correct: half, delta: 2)]).text
        XCTAssertTrue(skewHelps.contains("The claim holds here."), skewHelps)
        let noDifference = try Fig13Spec().summarize([
            Self.result("copa", Fig13Spec.method(skew: true), correct: half, delta: 3),
            Self.result("copa", Fig13Spec.method(skew: false), correct: half, delta: 2)]).text
        XCTAssertTrue(noDifference.contains("within two standard errors"), noDifference)
        XCTAssertTrue(noDifference.contains("no closer"), noDifference)

        let sweep = try Fig17AccuracySpec().summarize((1...9).map { a in
            Self.result("winogrande", Fig17AccuracySpec.method(alpha: Double(a), ratio: 0.2), correct: a < 3 ? half : ones,
                        delta: 10 - Double(a), bytes: 0.1 + 0.01 * Double(a))
        }).text
        XCTAssertTrue(sweep.contains("alpha 1 -> 9: acc 50% -> 100%"), sweep)
        XCTAssertTrue(sweep.contains("falls in 8 of 8 steps"), sweep)
        XCTAssertTrue(sweep.contains("the accuracy rise is resolved"), sweep)
    }
}
