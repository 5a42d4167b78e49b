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
        print("measured on this machine (\(m.cpuCores) cores, BLAS core \(m.blasCore)) in "
              + String(format: "%.1f s", Date().timeIntervalSince(started)) + ":")
        print(String(format: "  memcpy, 1 thread          %8.2f GB/s", m.memcpyOneThreadBytesPerSecond / gb))
        print(String(format: "  memcpy, %2d threads        %8.2f GB/s", m.threads, m.memcpyAllThreadsBytesPerSecond / gb))
        for (row, rate) in m.gatherOneThreadBytesPerSecond.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            print("  gather \(row)-byte rows, 1 thread " + String(format: "%8.2f GB/s", rate / gb))
        }
        print(String(format: "  gather %d-byte rows, %d threads %6.2f GB/s", m.linkRowBytes, m.threads,
                     m.gatherAllThreadsBytesPerSecond / gb))
        for (shape, rate) in m.sgemmGFLOPS.sorted(by: { $0.key < $1.key }) {
            print("  sgemm \(shape), 1 thread " + String(format: "%8.1f GFLOP/s", rate))
        }
        print(String(format: "  sgemm call overhead       %8.2f us", m.sgemmCallMicroseconds))
        print(String(format: "  sgemv, 1 thread           %8.2f GFLOP/s (%.2f GB/s of matrix)", m.sgemvGFLOPS,
                     m.sgemvBytesPerSecond / gb))
        print(String(format: "  thread hand-off (one way) %8.2f us", m.handoffMicroseconds))
        print(String(format: "  physical memory           %8.1f GiB", m.physicalMemoryBytes / 1_073_741_824))
        print("as a hardware profile:")
        print(String(format: "  device (compute thread)   %8.1f GFLOP/s, %.2f GB/s", p.deviceFP16TensorTFLOPS * 1000,
                     p.deviceMemoryBandwidthGBps))
        print(String(format: "  link host->device         %8.2f GB/s (prefetch thread gathering rows)", p.h2dPinnedGBps))
        print(String(format: "  link device->host         %8.2f GB/s", p.d2hPinnedGBps))
        print(String(format: "  host gather, all threads  %8.2f GB/s", p.hostGatherGBps))
        print("wrote \(url.path) (profile name \(p.name)); use it with `infinigen simulate --hardware \(out)`")
    }
}
