import Evaluation
import Foundation
import Model
import Offload
import Policies
import Report

/// A real two-tier run that validates the simulator: each policy decodes with its KV cache
/// in a host pool (`TwoTierKVStorage`: a prefetch thread copies the rows each layer reads
/// while the engine computes on one core), and the offload simulator predicts the same
/// configuration on this machine's profile from the rows the run read. Figure-14 style
/// bars of measured compute and stall per step, and the check: every prediction within
/// 20% of the measurement, same ranking.
public struct OffloadRunSpec: ExperimentSpec {
    public let id = "offload-run"
    public let title = "Real two-tier offloaded decode on this CPU vs the offload simulator"
    public let paperSetting = [
        Setting("system", "RTX A6000 (weights resident) + host KV over PCIe 3.0 x16"),
        Setting("model", "OPT-13B"),
        Setting("workload", "batch 20, prompt 1920, 128 generated (fig. 14)"),
        Setting("schemes", "FlexGen, FlexGen+H2O, InfiniGen (and UVM, INT4)"),
    ]
    public let ourSetting = [
        Setting("system", "this CPU: engine on 1 thread = device, a prefetch thread copying rows = link, host pool in DRAM"),
        Setting("model", "SmolLM2-135M-Instruct (Q4_1 weights, f32 KV)"),
        Setting("workload", "batch 1, wiki text teacher-forced; quick: prompt 256 + 16 steps, default: 1024 + 64"),
        Setting("schemes", "full, flexgen, h2o, infinigen policies; simulator schedules flexgen, flexgen-h2o, infinigen-paper"),
    ]
    public var codeDependencies: CodeDependencies { .everything }

    /// Where the engine-calibrated `this-machine` profile lives (measured when absent);
    /// nil: `this-machine.json` in the run's artifacts directory.
    public var profilePath: String?

    public init(profilePath: String? = nil) { self.profilePath = profilePath }

    static let policies = ["full", "flexgen", "h2o", "infinigen"]
    static let text = "wiki"

    public func inputs() throws -> [InputFile] {
        try [EngineInputs.model(), EngineInputs.text(Self.text)]
    }

    /// The measured profile the predictions use is an input too; optional, because the
    /// first run measures it (`prepareInputs`), so `list` shows "not run" meanwhile.
    public func inputs(artifacts: URL) throws -> [InputFile] {
        try inputs() + [InputFile(name: "this-machine", url: profileURL(artifacts), optional: true)]
    }

    /// Measures the profile now if `run` would (absent, or lacking the engine's rates), so
    /// the key holds the digest of the profile the results are predicted with.
    public func prepareInputs(_ context: RunContext) async throws {
        let url = profileURL(context.artifacts)
        if FileManager.default.fileExists(atPath: url.path), (try? HardwareProfile.load(from: url))?.engineCalibrated == true {
            return
        }
        let engine = try await Engine.shared(context)
        _ = try OffloadRunSimulation.machineProfile(at: url, remeasure: false, model: engine.model, log: context.log)
    }

    func profileURL(_ artifacts: URL) -> URL {
        profilePath.map { URL(fileURLWithPath: $0) } ?? artifacts.appendingPathComponent("this-machine.json")
    }

    public func configurations(profile: RunProfile) -> [Configuration] {
        let (prompt, steps) = switch profile { case .quick: (256, 16); case .default: (1024, 64); case .full: (1920, 128) }
        let known = Set(PolicyRegistry.names)
        return Self.policies.filter { known.contains($0) }.map {
            ["policy": .string($0), "prompt": .int(prompt), "steps": .int(steps)]
        }
    }

    public func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord {
        let engine = try await Engine.shared(context)
        let policy = try config.string("policy")
        let settings = OffloadRun.Settings(prompt: try config.int("prompt"), generate: try config.int("steps"))
        let tokens = try engine.tokens(Self.text, count: OffloadRun.textTokensNeeded(settings))
        let spec = try PolicyRegistry.canonical(policy)
        let method = try PolicyRegistry.make(policy, model: engine.model, context: engine.methodContext)
        let url = profileURL(context.artifacts)
        let hardware = try await context.resources.value("this-machine-profile", as: HardwareProfile.self) {
            try OffloadRunSimulation.machineProfile(at: url, remeasure: false,
                                                    model: engine.model, log: context.log)
        }
        let run = try OffloadRun.runAll(model: engine.model, methods: [(spec, method)], textTokens: tokens,
                                        text: Self.text, settings: settings, repeats: 2)[0]
        let row = try OffloadRunComparison.Row(run: run, hardware: hardware,
                                               shape: try OffloadRunSimulation.shape(model: engine.model))
        var r = ResultRecord()
        r.add("machine", run.label, .measured)
        r.add("step_seconds_median", run.medianStepSeconds, .measured, unit: "s")
        r.add("step_seconds_mean", run.meanStepSeconds, .measured, unit: "s")
        r.add("compute_seconds_median", run.medianComputeSeconds, .measured, unit: "s")
        r.add("stall_seconds_mean", run.meanStallSeconds, .measured, unit: "s")
        r.add("copy_seconds_mean", run.meanCopySeconds, .measured, unit: "s")
        r.add("policy_seconds_mean", run.meanPolicySeconds, .measured, unit: "s")
        r.add("engine_cpu_seconds_median", run.medianEngineCPUSeconds, .measured, unit: "s")
        r.add("cpu_clock_step_seconds_median", run.medianCPUClockSeconds, .measured, unit: "s")
        r.add("prefill_seconds", run.prefillSeconds, .measured, unit: "s")
        r.add("load_average_before", run.loadBefore, .measured)
        r.add("load_average_after", run.loadAfter, .measured)
        r.add("bytes_per_step", run.meanBytes, .measured, unit: "B")
        r.add("rows_per_step", Double(run.totalRows) / Double(max(1, run.generate)), .measured, unit: "rows")
        r.add("prefetched_share", OffloadRunReport.prefetchedShare(run), .measured)
        r.add("selects_ahead", run.selectsAhead ? 1 : 0, .measured)
        r.addSeries("rows_per_layer", run.meanRowsPerLayer, x: run.meanRowsPerLayer.indices.map(Double.init), .measured, unit: "rows per step")
        r.add("modeled_schedule", row.schedule, .modeled)
        r.add("modeled_hardware", hardware.name, .modeled)
        r.add("modeled_step_seconds_median", row.modeledStepSeconds, .modeled, unit: "s")
        r.add("modeled_compute_seconds", row.modeledComputeSeconds, .modeled, unit: "s")
        r.add("modeled_stall_seconds", row.modeledStallSeconds, .modeled, unit: "s")
        r.add("modeled_bytes_per_step", row.modeledBytesPerStep, .modeled, unit: "B")
        r.add("relative_error", row.relativeError, .modeled)
        r.add("cpu_clock_relative_error", row.cpuClockRelativeError, .modeled)
        return r
    }

    /// Timings (and what is derived from them, including the simulator's numbers on a
    /// measured profile) differ from run to run: not golden. Byte and row counts are.
    static let untimed: Set<String> = ["bytes_per_step", "rows_per_step", "prefetched_share", "selects_ahead", "rows_per_layer",
                                       "modeled_schedule", "modeled_hardware", "modeled_bytes_per_step"]

    public func goldenTolerance(for valueName: String, origin: Origin) -> Tolerance? {
        guard Self.untimed.contains(valueName) else { return nil }
        return Tolerance(absolute: 1e-9, relative: 1e-9)
    }

    /// A round axis top well above the tallest bar.
    static func top(_ values: [Double]) -> Double {
        let m = values.filter(\.isFinite).max() ?? 1
        return max(1, (m * 1.45 / 5).rounded(.up) * 5)   // room for the key above the bars
    }

    public func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput {
        var rows: [OffloadRunComparison.Row] = []
        var names: [String] = []
        var machine = "", loads: [Double] = [], ahead: [String] = [], demand: [String] = []
        for res in results {
            let rec = res.record
            func v(_ n: String) -> Double { rec.double(n) ?? .nan }
            let policy = (try? res.configuration.string("policy")) ?? "?"
            names.append(policy)
            if v("selects_ahead") == 1 { ahead.append(policy) } else { demand.append(policy) }
            if case .string(let m)? = rec.value("machine") { machine = m }
            loads += [v("load_average_before"), v("load_average_after")]
            let schedule: String = { if case .string(let s)? = rec.value("modeled_schedule") { return s }; return "?" }()
            rows.append(OffloadRunComparison.Row(
                policy: policy, schedule: schedule, reason: "",
                measuredStepSeconds: v("step_seconds_median"), measuredCPUClockStepSeconds: v("cpu_clock_step_seconds_median"),
                measuredComputeSeconds: v("compute_seconds_median"),
                measuredStallSeconds: v("stall_seconds_mean"), measuredBytesPerStep: v("bytes_per_step"),
                modeledStepSeconds: v("modeled_step_seconds_median"), modeledComputeSeconds: v("modeled_compute_seconds"),
                modeledStallSeconds: v("modeled_stall_seconds"), modeledBytesPerStep: v("modeled_bytes_per_step")))
        }
        let comparison = OffloadRunComparison(rows: rows, hardware: "this-machine", machine: machine)
        let ms = { (s: Double) in s * 1e3 }
        let measured = machine.isEmpty ? "measured" : machine
        let bars = PlotPanel(title: "Decode step, \(measured)", x: PlotAxis("policy", unit: ""),
                             y: PlotAxis("time per decode step", unit: "ms", range: 0...Self.top(rows.map { ms($0.measuredStepSeconds) })),
                             kind: .stackedBars,
                             series: [PlotSeries(name: "compute (measured)", values: rows.map { ms($0.measuredComputeSeconds) }),
                                      PlotSeries(name: "stall (measured)", values: rows.map { ms($0.measuredStallSeconds) })],
                             categories: names, key: .topLeft)
        let steps = [rows.map { ms($0.measuredStepSeconds) }, rows.map { ms($0.measuredCPUClockStepSeconds) },
                     rows.map { ms($0.modeledStepSeconds) }]
        let versus = PlotPanel(title: "Step time: measured vs modeled", x: PlotAxis("policy", unit: ""),
                               y: PlotAxis("median decode step", unit: "ms", range: 0...Self.top(steps.flatMap { $0 })),
                               kind: .groupedBars,
                               series: [PlotSeries(name: "measured (wall clock)", values: steps[0]),
                                        PlotSeries(name: "measured (engine CPU clock)", values: steps[1]),
                                        PlotSeries(name: "modeled (simulator, this-machine)", values: steps[2])],
                               categories: names, key: .topLeft)
        let plot = PlotSpec(id: id, title: "Offloaded decode on this CPU: measured vs simulator (modeled)",
                            panels: [bars, versus], width: 1200, height: 500)
        func f(_ s: Double) -> String { NumberText.short(ms(s)) }
        let table = ReportTable(
            title: "Decode step per policy: measured on this machine vs modeled by the simulator (ms, MB)",
            header: ["policy", "schedule (modeled)", "step measured", "step (CPU clock)", "step modeled", "error", "error (CPU clock)",
                     "compute measured", "compute modeled", "stall measured", "stall modeled", "MB/step measured", "MB/step modeled"],
            rows: rows.map { r in
                [r.policy, r.schedule, f(r.measuredStepSeconds), f(r.measuredCPUClockStepSeconds), f(r.modeledStepSeconds),
                 String(format: "%+.1f%%", 100 * r.relativeError), String(format: "%+.1f%%", 100 * r.cpuClockRelativeError),
                 f(r.measuredComputeSeconds), f(r.modeledComputeSeconds), f(r.measuredStallSeconds), f(r.modeledStallSeconds),
                 NumberText.short(r.measuredBytesPerStep / 1e6), NumberText.short(r.modeledBytesPerStep / 1e6)]
            })
        let finite = loads.filter(\.isFinite)
        let load = finite.isEmpty ? "" : String(format: " Load average during the runs: %.2f to %.2f on %d cores (other processes inflate measured times).",
                                                finite.min()!, finite.max()!, ProcessInfo.processInfo.activeProcessorCount)
        func list(_ xs: [String]) -> String { xs.isEmpty ? "none" : xs.joined(separator: ", ") }
        let text = """
        Each policy decodes with its cache in a two-tier store; the simulator is given the rows every layer read at \
        every step, SmolLM2's shape at the engine's storage sizes and the `this-machine` profile, whose device rates, \
        link and demand-fetch cost were timed on the engine's own decode step. Mapping: full and flexgen -> `flexgen` \
        (every row crosses), h2o -> `flexgen-h2o` with the recorded rows, infinigen -> `infinigen-paper`. Policies that \
        select a layer ahead have their rows prefetched while the previous layer computes (FlexGen's overlapped loop): \
        \(list(ahead)); the others fetch on demand (its serial loop): \(list(demand)). \(comparison.verdict)\(load)
        """
        return ExperimentOutput(
            tables: [table], plots: [plot],
            differences: [
                "One CPU stands in for the GPU system: the device is one core running the engine, the link is a second thread copying rows in the same DRAM; the numbers test the simulator, not the paper's hardware.",
                "full reads the whole cache through the two-tier store (it is not resident), so full and flexgen differ only in prefetching.",
            ],
            text: text)
    }
}
