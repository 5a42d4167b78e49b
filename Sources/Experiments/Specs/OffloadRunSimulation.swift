import Evaluation
import Foundation
import Model
import Offload
import Policies

/// The offload simulator set up for a real two-tier run of the workbench engine: this
/// machine's profile (device = the engine's compute thread, link = the prefetch thread),
/// SmolLM2's shape at the engine's storage sizes, the schedule that matches the policy,
/// and the token counts the run recorded.
public enum OffloadRunSimulation {
    /// Which schedule stands for a policy, with which options, and why.
    public struct Mapping: Sendable, Equatable {
        public var schedule: String
        public var options: ScheduleOptions
        public var reason: String
    }

    /// Policy → schedule:
    /// - full, flexgen (and any policy that read every row): `flexgen`, every row crosses;
    /// - h2o, streaming, quest, oracle (budgeted reads): `flexgen-h2o` fed the recorded
    ///   counts (a FlexGen loop moving the rows read, with H2O's score traffic and
    ///   bookkeeping: the closest schedule with a per-layer budget);
    /// - infinigen: `infinigen-paper` (the prefetch of layer l+1 overlaps layer l, as the
    ///   engine's storage does), partial ratio from the spec.
    /// Options that describe this machine rather than a policy: the host pool needs no
    /// pinned staging copy; the link is the gather itself (no separate host gather);
    /// FlexGen loads overlap the previous sublayer only when the policy selects ahead
    /// (otherwise the engine fetches on demand, as FlexGen's serial loop); leading
    /// layers that read everything at every step are dense.
    public static func mapping(for run: OffloadRunResult) -> Mapping {
        var options = ScheduleOptions()
        options.hostKVPinned = true
        options.paperHostGather = false
        options.overlapIO = run.selectsAhead
        options.denseLeadingLayers = denseLeadingLayers(run)
        options.timelineSteps = Array(0...run.generate)
        let name = run.policy.split(separator: ":").first.map(String.init) ?? run.policy
        let overlap = run.selectsAhead ? "prefetched a layer ahead (overlapped loop)" : "fetched on demand (serial loop)"
        switch name {
        case "infinigen":
            if let parsed = try? PolicyRegistry.parse(run.policy), case let .real(r)? = parsed.values.values["ratio"] {
                options.partialWeightRatio = r
            }
            return Mapping(schedule: "infinigen-paper", options: options,
                           reason: "InfiniGen: speculation for layer l+1 during layer l, prefetch overlapping layer l")
        case "h2o", "streaming", "quest", "oracle":
            return Mapping(schedule: "flexgen-h2o", options: options,
                           reason: "budgeted reads: FlexGen moving the recorded rows per layer, \(overlap)")
        default:
            let readsAll = run.rows.enumerated().allSatisfy { step, layers in
                layers.allSatisfy { $0.allSatisfy { $0 == run.prompt + step } }
            }
            if readsAll || name == "full" || name == "flexgen" {
                return Mapping(schedule: "flexgen", options: options, reason: "every row crosses every step, \(overlap)")
            }
            return Mapping(schedule: "flexgen-h2o", options: options,
                           reason: "budgeted reads: FlexGen moving the recorded rows per layer, \(overlap)")
        }
    }

    /// Leading layers that read every cached row at every step of the run.
    static func denseLeadingLayers(_ run: OffloadRunResult) -> Int {
        guard let layers = run.rows.first?.count else { return 0 }
        var dense = 0
        while dense < layers && run.rows.enumerated().allSatisfy({ step, rows in
            rows[dense].allSatisfy { $0 == run.prompt + step }
        }) { dense += 1 }
        return dense
    }

    /// SmolLM2-135M at the sizes the engine stores it (Q4_1 layers, Q8_0 head, f32 KV).
    public static func shape(model: LlamaModel) throws -> ModelShape {
        try ModelShape.load(named: "smollm2-135m").withEngineStorage(of: model)
    }

    /// The simulator's run of the same configuration: same batch, prompt and decode
    /// steps (the simulator counts the token produced by prefill as the first of
    /// `generateLength`), the run's recorded rows per (step, layer).
    public static func predict(_ run: OffloadRunResult, hardware: HardwareProfile,
                               shape: ModelShape) throws -> SimulationResult {
        let m = mapping(for: run)
        let workload = Workload(batch: run.batch, promptLength: run.prompt, generateLength: run.generate + 1)
        let reads = TokenReadSource.recorded(counts: run.rows, source: "offload-run \(run.policy), \(run.text)")
        return try Simulator.run(schedule: m.schedule, model: shape, hardware: hardware, workload: workload,
                                 reads: reads, options: m.options)
    }

    /// The `this-machine` profile at `url`, engine-calibrated. Measured (MachineProfiler and
    /// EngineProfiler on `model`) and written when absent, when `remeasure`, or when the
    /// file lacks the engine's rates (e.g. written by `infinigen profile`); then only the
    /// engine part is measured and added.
    public static func machineProfile(at url: URL, remeasure: Bool, model: LlamaModel,
                                      engineSettings: EngineProfiler.Settings = EngineProfiler.Settings(),
                                      machineSettings: MachineProfiler.Settings = MachineProfiler.Settings(),
                                      log: (String) -> Void = { _ in }) throws -> HardwareProfile {
        var base: HardwareProfile?
        if !remeasure, FileManager.default.fileExists(atPath: url.path) {
            let loaded = try HardwareProfile.load(from: url)
            if loaded.engineCalibrated { return loaded }
            base = loaded
        }
        if base == nil {
            log("measuring this machine (memcpy, gathers, sgemm, hand-off)...")
            let profiler = MachineProfiler(settings: machineSettings)
            base = profiler.profile(from: profiler.measure())
        }
        log("timing the engine's decode step (contexts \(engineSettings.contexts.map(String.init).joined(separator: ", ")))...")
        let engine = try EngineProfiler(settings: engineSettings).measure(model: model)
        let profile = base!.calibrated(to: engine, shape: try shape(model: model))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try profile.write(to: url)
        log("wrote \(url.path)")
        return profile
    }
}
