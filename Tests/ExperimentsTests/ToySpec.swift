import Foundation
import Report
@testable import Experiments

/// Knobs and counters shared between a test and its toy experiment.
final class ToyState: @unchecked Sendable {
    private let lock = NSLock()
    private var _runs = 0
    private var _failAtRun: Int?
    private var _offset = 0.0
    private var _codeVersion = "toy-1"

    /// How many times `run` computed something (cache hits do not count).
    var runs: Int { lock.withLock { _runs } }
    /// Make the n-th computation (1-based, counted from now) throw, like an interrupted run.
    func failAtRun(_ n: Int?) { lock.withLock { _failAtRun = n.map { _runs + $0 } } }
    /// Changes every result (to test golden diffs).
    var offset: Double {
        get { lock.withLock { _offset } }
        set { lock.withLock { _offset = newValue } }
    }
    var codeVersion: String {
        get { lock.withLock { _codeVersion } }
        set { lock.withLock { _codeVersion = newValue } }
    }

    fileprivate func count() throws {
        try lock.withLock {
            _runs += 1
            if let n = _failAtRun, _runs == n { throw ExperimentError("simulated interruption") }
        }
    }
}

/// A deterministic function of its parameters: value = n * scale + offset.
struct ToySpec: ExperimentSpec {
    let id: String
    let state: ToyState
    var sizes: [RunProfile: Int] = [.quick: 4, .default: 6, .full: 8]
    var inputFiles: [InputFile] = []

    var title: String { "Toy experiment \(id)" }
    var paperSetting: [Setting] { [Setting("Model", "OPT-13B"), Setting("Batch", "20")] }
    var ourSetting: [Setting] { [Setting("Model", "toy"), Setting("Batch", "20")] }
    var referenceValues: [ReferenceValue] { [ReferenceValue("max value", 3.5, unit: "s", source: "paper fig. 0")] }
    var codeVersion: String { state.codeVersion }

    func inputs() throws -> [InputFile] { inputFiles }

    func configurations(profile: RunProfile) -> [Configuration] {
        (1...sizes[profile]!).map { ["n": .int($0), "scale": 0.5, "label": .string("p,\($0)")] }
    }

    func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord {
        try state.count()
        let n = try config.int("n"), scale = try config.double("scale")
        var record = ResultRecord()
        record.add("value", Double(n) * scale + state.offset, .modeled, unit: "s")
        record.add("square", n * n, .measured)
        record.add("parity", n % 2 == 0 ? "even" : "odd", .measured)
        record.addSeries("ramp", (0..<3).map { Double($0 * n) }, x: [1, 2, 3], .measured, unit: "tokens")
        return record
    }

    func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        let xs = try results.map { Double(try $0.configuration.int("n")) }
        let ys = results.map { $0.record.double("value")! }
        let plot = PlotSpec(id: id, title: "\(id): value vs n",
                            panel: PlotPanel(x: PlotAxis("n", unit: "1"), y: PlotAxis("value", unit: "s"),
                                             kind: .linespoints, series: [PlotSeries(name: "toy_value", x: xs, y: ys)]))
        return ExperimentOutput(
            tables: [ReportTable(title: "Values", header: ["n", "value"],
                                 rows: zip(xs, ys).map { [NumberText.short($0), NumberText.short($1)] })],
            plots: [plot],
            comparisons: [comparison("max value", ours: ys.max() ?? 0, origin: .modeled)],
            differences: ["Toy numbers are not the paper's."],
            text: "The toy value grows linearly with n.")
    }
}
