import ArgumentParser
import Foundation
import Offload

/// `infinigen simulate`: one run of the offloading timeline model. Every number it prints
/// is modeled (a cost model of the named hardware profile), never measured.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Model one offloaded generation run (schedule x model x hardware profile): prefill, decode, link bytes. Modeled, not measured.",
        discussion: """
        Example (the paper's figure 14 point for InfiniGen):
          infinigen simulate --schedule infinigen-paper --model opt-13b --hardware a6000-pcie3 \\
              --batch 20 --prompt 1920 --generate 128 --max-kv 400
        --hardware takes a bundled profile name or a profile JSON file (e.g. the one
        `infinigen profile` writes). `infinigen simulate --list` shows what is available.
        """)

    @Flag(help: "List schedules, model shapes and hardware profiles, then exit.")
    var list = false

    @Option(help: "Schedule (see --list).")
    var schedule = "infinigen-paper"

    @Option(help: "Model shape (see --list).")
    var model = "opt-13b"

    @Option(help: "Hardware profile name (see --list) or path to a profile JSON file.")
    var hardware = "a6000-pcie3"

    @Option(help: "Sequences per batch.")
    var batch = 20

    @Option(help: "Prompt tokens per sequence.")
    var prompt = 1920

    @Option(help: "Generated tokens per sequence (the first comes out of prefill).")
    var generate = 128

    @Option(name: .customLong("max-kv"), help: "InfiniGen's max_num_kv: cap on tokens fetched per layer and step.")
    var maxKV = 400

    @Option(help: "InfiniGen's speculated count as a fraction of the context (default: the count reaches max_num_kv).")
    var fraction: Double?

    @Option(name: .customLong("partial-ratio"), help: "InfiniGen partial weight ratio d'/head_dim.")
    var partialRatio = 0.2

    @Option(help: "Schedule knobs: paper (FlexGen overlap on) or artifact (the artifact scripts' --overlap false).")
    var options = "paper"

    @Flag(help: "Print the whole result (timeline of the recorded steps included) as JSON.")
    var json = false

    func validate() throws {
        guard list || batch >= 1 else { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        guard list || prompt >= 1 else { throw ValidationError("--prompt must be at least 1 (got \(prompt))") }
        guard list || generate >= 1 else { throw ValidationError("--generate must be at least 1 (got \(generate))") }
        guard list || maxKV >= 1 else { throw ValidationError("--max-kv must be at least 1 (got \(maxKV))") }
        if let fraction, !(0...1).contains(fraction) {
            throw ValidationError("--fraction must be in [0, 1] (got \(fraction))")
        }
        guard ["paper", "artifact"].contains(options) else {
            throw ValidationError("--options must be paper or artifact (got \(options))")
        }
    }

    func run() throws {
        if list { return printList() }
        let shape = try ModelShape.load(named: model)
        let profile = try Self.hardwareProfile(hardware)
        var knobs = options == "artifact" ? ScheduleOptions.artifact : ScheduleOptions()
        knobs.partialWeightRatio = partialRatio
        let reads = TokenReadSource.paperSetting(maxNumKV: maxKV, count: fraction.map { .fractionOfContext($0) } ?? .capBinds)
        let workload = Workload(batch: batch, promptLength: prompt, generateLength: generate)
        let r = try Simulator.run(schedule: schedule, model: shape, hardware: profile, workload: workload,
                                  reads: reads, options: knobs)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(r), as: UTF8.self))
            return
        }
        printResult(r, profile: profile)
    }

    /// A bundled name, or a file when the argument names one.
    static func hardwareProfile(_ argument: String) throws -> HardwareProfile {
        if argument.hasSuffix(".json") || argument.contains("/") {
            guard FileManager.default.fileExists(atPath: argument) else {
                throw CLIError("hardware profile file not found: \(argument)")
            }
            return try HardwareProfile.load(from: URL(fileURLWithPath: argument))
        }
        return try HardwareProfile.load(named: argument)
    }

    private func printResult(_ r: SimulationResult, profile: HardwareProfile) {
        func s(_ x: Double) -> String { String(format: "%10.3f s", x) }
        func gb(_ x: Double) -> String { String(format: "%10.2f GB", x / 1e9) }
        print("MODELED, not measured: \(r.label)")
        print("schedule     \(r.schedule)  (options: \(options))")
        print("model        \(r.model)")
        print("hardware     \(r.hardware): \(profile.deviceName)")
        print("workload     batch \(r.workload.batch), prompt \(r.workload.promptLength), generate \(r.workload.generateLength) (\(r.workload.decodeSteps) decode steps)")
        print("token reads  \(r.tokenReads)")
        print("")
        print("total        \(s(r.totalSeconds))   (modeled)")
        print("  prefill    \(s(r.prefillSeconds))")
        print("  decode     \(s(r.decodeSeconds))" + (r.decodeStepSeconds.isEmpty ? "" :
              String(format: "   (%.1f ms per step)", 1000 * r.decodeSeconds / Double(r.decodeStepSeconds.count))))
        let tokens = Double(r.workload.batch * r.workload.generateLength)
        print(String(format: "throughput   %10.2f generated tokens/s", tokens / max(r.totalSeconds, 1e-12)))
        print("")
        print("busy time per resource (they overlap, so they do not add up to the total):")
        print("  device compute  \(s(r.breakdown.computeSeconds))")
        print("  host->device    \(s(r.breakdown.hostToDeviceSeconds))   \(gb(r.bytesHostToDevice))")
        print("  device->host    \(s(r.breakdown.deviceToHostSeconds))   \(gb(r.bytesDeviceToHost))")
        print("  host CPU        \(s(r.breakdown.cpuSeconds))")
        print("  device idle     \(s(r.breakdown.stallSeconds))")
        if !r.notes.isEmpty {
            print("")
            print("assumptions:")
            for n in r.notes { print("  - \(n)") }
        }
    }

    private func printList() {
        print("schedules (modeled):")
        let width = ScheduleRegistry.names.map(\.count).max() ?? 0
        for s in ScheduleRegistry.all {
            print("  " + s.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + s.summary)
        }
        print("model shapes:")
        for name in ModelShape.bundledNames {
            if let m = try? ModelShape.load(named: name) {
                print("  \(name): \(m.layers) layers, hidden \(m.hidden), heads \(m.heads) (KV \(m.kvHeads)), "
                      + String(format: "%.1f GB of fp16 weights, %.0f%% on device", m.totalWeightBytes / 1e9, 100 * m.weightOnDeviceFraction))
            } else {
                print("  \(name): (cannot be loaded)")
            }
        }
        print("hardware profiles (or pass a profile JSON file, e.g. from `infinigen profile`):")
        for name in HardwareProfile.bundledNames {
            let text = (try? HardwareProfile.load(named: name)).map { $0.deviceName } ?? "(cannot be loaded)"
            print("  \(name): \(text)")
        }
    }
}
