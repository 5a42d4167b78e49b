import Foundation
import Offload
import Report

/// One bar of the speed figures: a simulator schedule and the paper's name for it.
struct SpeedScheme: Sendable, Equatable {
    let schedule: String
    let label: String
}

extension SpeedScheme {
    /// Short enough for an x-axis label.
    var shortLabel: String {
        switch schedule {
        case "infinigen-artifact": return "InfiniGen (artifact)"
        case "full-gpu": return "Full GPU"
        default: return label
        }
    }
}

/// The schemes of figures 14-17 and the order the figures draw them in.
enum SpeedSchemes {
    static let fullGPU = SpeedScheme(schedule: "full-gpu", label: "Full GPU (reference)")
    static let uvm = SpeedScheme(schedule: "uvm", label: "UVM")
    static let uvmH2O = SpeedScheme(schedule: "uvm-h2o", label: "UVM+H2O")
    static let flexgen = SpeedScheme(schedule: "flexgen", label: "FlexGen")
    static let int4 = SpeedScheme(schedule: "flexgen-int4", label: "FlexGen+INT4")
    static let h2o = SpeedScheme(schedule: "flexgen-h2o", label: "FlexGen+H2O")
    static let infinigen = SpeedScheme(schedule: "infinigen-paper", label: "InfiniGen")
    static let infinigenArtifact = SpeedScheme(schedule: "infinigen-artifact", label: "InfiniGen (artifact order)")

    /// The five prior methods of figure 14.
    static let baselines = [uvm, uvmH2O, flexgen, int4, h2o]
    /// Prior KV-cache management methods (the paper's "up to 3.00x" claim is over these;
    /// plain UVM and FlexGen move the whole cache).
    static let kvManagement = [uvmH2O, int4, h2o]
    /// Figures 14 and 15: the six schemes, InfiniGen's artifact schedule, the full-GPU floor.
    static let all = baselines + [infinigen, infinigenArtifact, fullGPU]
    /// Figure 16 (the artifact runs only the FlexGen-based schemes there).
    static let flexgenFamily = [flexgen, int4, h2o, infinigen, infinigenArtifact]

    static func label(_ schedule: String) -> String {
        (all.first { $0.schedule == schedule })?.label ?? schedule
    }
}

/// Display names of the bundled hardware profiles, for titles and legends.
enum HardwareNames {
    static let paper = "a6000-pcie3"

    static func display(_ name: String) -> String {
        switch name {
        case "a6000-pcie3": return "A6000 PCIe 3.0"
        case "a100-80gb-pcie4": return "A100-80GB PCIe 4.0"
        case "h100-pcie5": return "H100 PCIe 5.0"
        case "gh200-nvlink-c2c": return "GH200 NVLink-C2C"
        default: return name
        }
    }

    /// "(modeled, A6000 PCIe 3.0 profile)"
    static func modeledTag(_ name: String) -> String { "(modeled, \(display(name)) profile)" }
}

/// One simulated run, as an experiment configuration. Every key is spelled out in the
/// configuration (and so in the cache key and the CSV), even where a figure holds it fixed.
struct SpeedPoint: Sendable, Equatable {
    var scheme: String
    var model = "opt-13b"
    var hardware = HardwareNames.paper
    var batch: Int
    var prompt = 1920
    var generate = 128
    /// InfiniGen's max_num_kv (ignored by the other schemes).
    var maxKV: Int
    /// InfiniGen's partial weight ratio d'/head_dim.
    var partialRatio = 0.2
    /// Schedule knobs: "paper" (`ScheduleOptions()`) or "artifact" (`.artifact`).
    var options = "paper"
    /// Speculated count as a fraction of the context; nil: the count reaches max_num_kv.
    var fraction: Double?

    init(scheme: String, model: String = "opt-13b", hardware: String = HardwareNames.paper, batch: Int,
         prompt: Int = 1920, generate: Int = 128, maxKV: Int, partialRatio: Double = 0.2,
         options: String = "paper", fraction: Double? = nil) {
        self.scheme = scheme
        self.model = model
        self.hardware = hardware
        self.batch = batch
        self.prompt = prompt
        self.generate = generate
        self.maxKV = maxKV
        self.partialRatio = partialRatio
        self.options = options
        self.fraction = fraction
    }

    var configuration: Configuration {
        var c: Configuration = [
            "scheme": .string(scheme), "model": .string(model), "hardware": .string(hardware),
            "batch": .int(batch), "prompt": .int(prompt), "generate": .int(generate),
            "max_kv": .int(maxKV), "partial_ratio": .double(partialRatio), "options": .string(options),
        ]
        if let fraction { c["fraction"] = .double(fraction) }
        return c
    }

    init(_ c: Configuration) throws {
        scheme = try c.string("scheme")
        model = try c.string("model")
        hardware = try c.string("hardware")
        batch = try c.int("batch")
        prompt = try c.int("prompt")
        generate = try c.int("generate")
        maxKV = try c.int("max_kv")
        partialRatio = try c.double("partial_ratio")
        options = try c.string("options")
        fraction = c["fraction"] == nil ? nil : try c.double("fraction")
    }

    /// Names that exist and numbers in range, each failure one line naming the key.
    func check() throws {
        func fail(_ s: String) -> ExperimentError { ExperimentError("speed point \(scheme)/\(model)/\(hardware): \(s)") }
        guard ScheduleRegistry.names.contains(scheme) else { throw fail("unknown scheme (\(ScheduleRegistry.names.joined(separator: ", ")))") }
        guard ModelShape.bundledNames.contains(model) else { throw fail("unknown model shape") }
        guard HardwareProfile.bundledNames.contains(hardware) else { throw fail("unknown hardware profile") }
        guard ["paper", "artifact"].contains(options) else { throw fail("options '\(options)' must be paper or artifact") }
        guard batch >= 1, prompt >= 1, generate >= 1 else { throw fail("batch, prompt and generate must be >= 1") }
        guard maxKV >= 1 else { throw fail("max_kv must be >= 1") }
        guard partialRatio > 0 && partialRatio <= 1 else { throw fail("partial_ratio must be in (0, 1]") }
        if let fraction, !(0...1).contains(fraction) { throw fail("fraction must be in [0, 1]") }
    }

    var scheduleOptions: ScheduleOptions {
        get throws {
            var o: ScheduleOptions
            switch options {
            case "paper": o = ScheduleOptions()
            case "artifact": o = .artifact
            default: throw ExperimentError("options '\(options)' must be paper or artifact")
            }
            o.partialWeightRatio = partialRatio
            return o
        }
    }

    /// Runs the timeline model; `fraction` overrides the configuration's count (fig17's
    /// measured fractions arrive at run time).
    func simulate(fraction override: Double? = nil) throws -> SimulationResult {
        let count: TokenCountModel = (override ?? fraction).map { .fractionOfContext($0) } ?? .capBinds
        return try Simulator.run(schedule: scheme, model: try ModelShape.load(named: model),
                                 hardware: try HardwareProfile.load(named: hardware),
                                 workload: Workload(batch: batch, promptLength: prompt, generateLength: generate),
                                 reads: .paperSetting(maxNumKV: maxKV, count: count), options: try scheduleOptions)
    }
}

/// A modeled latency experiment: each configuration is one `SpeedPoint` the offload
/// simulator times, keyed by the simulator's code and data and pinned with the speed tolerances.
public protocol ModeledSpeedExperiment: ExperimentSpec {}

extension ModeledSpeedExperiment {
    public var codeDependencies: CodeDependencies { .modeledSpeed }

    public func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord {
        SpeedRecord.make(try SpeedPoint(config).simulate())
    }

    public func goldenTolerance(for valueName: String, origin: Origin) -> Tolerance? {
        SpeedGolden.tolerance(valueName, origin)
    }
}

/// The values every speed configuration records; all modeled, the profile named in each.
enum SpeedRecord {
    static func make(_ r: SimulationResult) -> ResultRecord {
        var rec = ResultRecord()
        rec.add("total_s", r.totalSeconds, .modeled, unit: "s")
        rec.add("prefill_s", r.prefillSeconds, .modeled, unit: "s")
        rec.add("decode_s", r.decodeSeconds, .modeled, unit: "s")
        let steps = r.decodeStepSeconds.count
        rec.add("decode_step_ms", steps > 0 ? 1000 * r.decodeSeconds / Double(steps) : 0, .modeled, unit: "ms")
        rec.add("throughput", Double(r.workload.batch * r.workload.generateLength) / max(r.totalSeconds, 1e-12),
                .modeled, unit: "tokens/s")
        rec.add("device_busy_s", r.breakdown.computeSeconds, .modeled, unit: "s")
        rec.add("device_idle_s", r.breakdown.stallSeconds, .modeled, unit: "s")
        rec.add("h2d_busy_s", r.breakdown.hostToDeviceSeconds, .modeled, unit: "s")
        rec.add("d2h_busy_s", r.breakdown.deviceToHostSeconds, .modeled, unit: "s")
        rec.add("host_busy_s", r.breakdown.cpuSeconds, .modeled, unit: "s")
        rec.add("h2d_gb", r.bytesHostToDevice / 1e9, .modeled, unit: "GB")
        rec.add("d2h_gb", r.bytesDeviceToHost / 1e9, .modeled, unit: "GB")
        rec.add("profile", r.hardware, .modeled)
        rec.add("token_reads", r.tokenReads, .modeled)
        rec.add("assumptions", r.notes.joined(separator: " | "), .modeled)
        return rec
    }
}

/// Reading results back in the summaries.
extension ExperimentResult {
    var point: SpeedPoint? { try? SpeedPoint(configuration) }

    func seconds(_ name: String = "total_s") -> Double { record.double(name) ?? .nan }
}

enum SpeedSummary {
    /// The first result matching `predicate`'s point.
    static func find(_ results: [ExperimentResult], _ predicate: (SpeedPoint) -> Bool) -> ExperimentResult? {
        results.first { $0.point.map(predicate) ?? false }
    }

    static func seconds(_ s: Double) -> String { s.isFinite ? String(format: "%.1f", s) : "-" }
    static func ratio(_ x: Double) -> String { x.isFinite ? String(format: "%.2fx", x) : "-" }

    /// One row per scheme: prefill, decode, total, link traffic and InfiniGen's speedup.
    static func schemeTable(_ title: String, results: [ExperimentResult], schemes: [SpeedScheme],
                            infinigenTotal: Double) -> ReportTable {
        let rows: [[String]] = schemes.compactMap { scheme in
            guard let r = results.first(where: { $0.point?.scheme == scheme.schedule }) else { return nil }
            return [scheme.label, seconds(r.seconds("prefill_s")), seconds(r.seconds("decode_s")),
                    seconds(r.seconds()), String(format: "%.0f", r.seconds("h2d_gb")),
                    ratio(r.seconds() / infinigenTotal)]
        }
        return ReportTable(title: title, header: ["scheme", "prefill (s)", "decode (s)", "total (s)",
                                                  "host→device (GB)", "total / InfiniGen"], rows: rows)
    }

    /// Totals of `schemes` over the categories of a sweep: `value(scheme, category)`.
    static func series(_ schemes: [SpeedScheme], _ value: (SpeedScheme) -> [Double]) -> [PlotSeries] {
        schemes.map { PlotSeries(name: $0.label, values: value($0)) }
    }
}

/// Golden-file tolerances of the modeled specs: exact for numbers (the model is
/// deterministic). Only the primary numbers are pinned; derived ones (throughput, idle
/// time) and free text (assumptions, labels) stay out to keep the files small.
enum SpeedGolden {
    static let pinned: Set<String> = ["total_s", "prefill_s", "decode_s", "device_busy_s", "host_busy_s",
                                      "h2d_gb", "d2h_gb", "profile", "fraction_selected", "k_first_step", "k_last_step"]

    static func tolerance(_ name: String, _ origin: Origin, modeledRelative: Double = 1e-9) -> Tolerance? {
        guard pinned.contains(name) else { return nil }
        return origin == .modeled ? Tolerance(absolute: 1e-9, relative: modeledRelative)
                                  : Tolerance(absolute: 1e-6, relative: 1e-4)
    }
}
