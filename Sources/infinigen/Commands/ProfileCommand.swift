import ArgumentParser
import Foundation
import Offload

/// `infinigen profile`: measures this machine and writes it as the `this-machine`
/// hardware profile, which `infinigen simulate --hardware <file>` accepts.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Measure this machine (memcpy, row gathers, sgemm/sgemv, thread hand-off) and write the `this-machine` hardware profile JSON.",
        discussion: """
        This CPU is described as a two-tier system: one compute thread plays the device, a prefetch \
        thread gathering rows plays the host-to-device link, the host pool shares the same DRAM. \
        The JSON's `sources` say which measurement each number comes from.
        """)

    @Option(help: "Where to write the profile JSON.")
    var out = "artifacts/this-machine.json"

    @Flag(help: "Small buffers and few repetitions (seconds instead of tens of seconds; noisier).")
    var quick = false

    func run() throws {
        let profiler = MachineProfiler(settings: quick ? .quick : MachineProfiler.Settings())
        note("measuring this machine\(quick ? " (quick settings)" : "")...")
        let started = Date()
        let m = profiler.measure()
        let p = profiler.profile(from: m)
        let url = URL(fileURLWithPath: out)
        try p.write(to: url)

        let gb = 1e9
        func line(_ label: String, _ value: String) { print("  " + label.padding(toLength: 36, withPad: " ", startingAt: 0) + value) }
        print("measured on this machine (\(m.cpuCores) cores, BLAS core \(m.blasCore)) in "
              + String(format: "%.1f s", Date().timeIntervalSince(started)) + ":")
        line("memcpy, 1 thread", String(format: "%8.2f GB/s", m.memcpyOneThreadBytesPerSecond / gb))
        line("memcpy, \(m.threads) threads", String(format: "%8.2f GB/s", m.memcpyAllThreadsBytesPerSecond / gb))
        for (row, rate) in m.gatherOneThreadBytesPerSecond.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            line("gather \(row)-byte rows, 1 thread", String(format: "%8.2f GB/s", rate / gb))
        }
        line("gather \(m.linkRowBytes)-byte rows, \(m.threads) threads", String(format: "%8.2f GB/s", m.gatherAllThreadsBytesPerSecond / gb))
        for (shape, rate) in m.sgemmGFLOPS.sorted(by: { $0.key < $1.key }) {
            line("sgemm \(shape), 1 thread", String(format: "%8.1f GFLOP/s", rate))
        }
        line("sgemm call overhead", String(format: "%8.2f us", m.sgemmCallMicroseconds))
        line("sgemv, 1 thread", String(format: "%8.2f GFLOP/s (%.2f GB/s of matrix)", m.sgemvGFLOPS, m.sgemvBytesPerSecond / gb))
        line("thread hand-off (one way)", String(format: "%8.2f us", m.handoffMicroseconds))
        line("physical memory", String(format: "%8.1f GiB", m.physicalMemoryBytes / 1_073_741_824))
        print("as a hardware profile:")
        line("device (compute thread)", String(format: "%8.1f GFLOP/s, %.2f GB/s", p.deviceFP16TensorTFLOPS * 1000, p.deviceMemoryBandwidthGBps))
        line("link host->device", String(format: "%8.2f GB/s (prefetch thread gathering rows)", p.h2dPinnedGBps))
        line("link device->host", String(format: "%8.2f GB/s", p.d2hPinnedGBps))
        line("host gather, all threads", String(format: "%8.2f GB/s", p.hostGatherGBps))
        print("wrote \(url.path) (profile name \(p.name)); use it with `infinigen simulate --hardware \(out)`")
    }
}
