import CBLAS
import Dispatch
import Foundation

/// Measures this machine and describes it as a `HardwareProfile` named
/// `this-machine`, for the workbench's real two-tier run on one CPU:
///
/// - the KV cache lives in a host pool; a prefetch thread copies the
///   selected rows into a compact working buffer; a compute thread runs the
///   model on the working buffer;
/// - "device" = the compute thread: one core running BLAS (fp32 sgemm; the
///   `device_fp16_tensor_tflops` field holds that fp32 rate), its memory
///   bandwidth = one core streaming a matrix through sgemv;
/// - "host-to-device link" = the prefetch thread gathering scattered rows
///   (`linkRowBytes` each) into the working buffer; pinned and pageable are
///   the same here;
/// - "device-to-host link" = one-thread memcpy (new rows written back to the
///   pool); "transfer latency" and "device sync" = one thread hand-off;
/// - "host" = the whole CPU (all-thread memcpy and gather);
/// - unified memory analogue: a demand request to the helper thread per
///   4 KiB page, moved at one-thread memcpy speed.
/// Both tiers share the same DRAM, so device and host memory sizes are both
/// the physical memory.
public struct MachineProfiler: Sendable {
    public struct Settings: Sendable {
        public var bufferBytes = 256 << 20
        public var repetitions = 3
        public var gatherRowBytes = [128, 256, 576, 1152]
        public var gatherRows = 1 << 16
        public var linkRowBytes = 256
        public var sgemmShapes: [(m: Int, n: Int, k: Int)] = [(512, 576, 1536), (1024, 1024, 1024), (2048, 2048, 2048)]
        public var sgemvSize = 6144  // 144 MiB of fp32: larger than common last-level caches
        public var handoffRounds = 20_000
        public var threads = ProcessInfo.processInfo.activeProcessorCount

        public init() {}

        /// Small sizes for tests: seconds of work, numbers still meaningful.
        public static var quick: Settings {
            var s = Settings()
            s.bufferBytes = 16 << 20
            s.repetitions = 2
            s.gatherRows = 1 << 12
            s.sgemmShapes = [(128, 144, 384)]
            s.sgemvSize = 1024
            s.handoffRounds = 500
            return s
        }
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) { self.settings = settings }

    public func measure() -> MachineMeasurements {
        let s = settings
        var gather: [String: Double] = [:]
        for row in s.gatherRowBytes { gather[String(row)] = gatherRate(rowBytes: row, threads: 1) }
        let previousThreads = openblas_get_num_threads()
        openblas_set_num_threads(1)
        var sgemm: [String: Double] = [:]
        for shape in s.sgemmShapes { sgemm["\(shape.m)x\(shape.n)x\(shape.k)"] = sgemmRate(shape) }
        let call = sgemmCallMicroseconds()
        let gemv = sgemvRate()
        openblas_set_num_threads(previousThreads)
        return MachineMeasurements(
            memcpyOneThreadBytesPerSecond: memcpyRate(threads: 1),
            memcpyAllThreadsBytesPerSecond: memcpyRate(threads: s.threads),
            threads: s.threads,
            gatherOneThreadBytesPerSecond: gather,
            gatherAllThreadsBytesPerSecond: gatherRate(rowBytes: s.linkRowBytes, threads: s.threads),
            linkRowBytes: s.linkRowBytes,
            sgemmGFLOPS: sgemm, sgemmCallMicroseconds: call,
            sgemvGFLOPS: gemv.gflops, sgemvBytesPerSecond: gemv.bytesPerSecond,
            handoffMicroseconds: handoffMicroseconds(),
            physicalMemoryBytes: Double(ProcessInfo.processInfo.physicalMemory),
            cpuCores: ProcessInfo.processInfo.activeProcessorCount,
            blasCore: openblas_get_corename().map { String(cString: $0) } ?? "unknown")
    }

    /// The `this-machine` profile (see the type's documentation for the mapping).
    public func profile(from m: MachineMeasurements) -> HardwareProfile {
        let gb = 1e9
        let link = (m.gatherOneThreadBytesPerSecond[String(m.linkRowBytes)]
                    ?? m.gatherOneThreadBytesPerSecond.values.max() ?? m.memcpyOneThreadBytesPerSecond) / gb
        let bestSgemm = m.sgemmGFLOPS.values.max() ?? 1
        let memoryGiB = m.physicalMemoryBytes / 1_073_741_824
        let handoff = max(m.handoffMicroseconds, 0.01)
        let measured = "measured by MachineProfiler on this machine"
        let sources: [String: String] = [
            "device_fp16_tensor_tflops": "\(measured): best one-thread cblas_sgemm (fp32; the compute thread is the device)",
            "device_matmul_efficiency": "1: the throughput above is already achieved, not a peak",
            "device_memory_bandwidth_gb_per_s": "\(measured): one-thread cblas_sgemv bytes of matrix streamed per second",
            "device_memory_efficiency": "1: measured rate, not a peak",
            "device_memory_gib": "physical memory: the working buffer shares DRAM with the host pool",
            "device_reserved_gib": "assumption: 10% of memory (at most 1 GiB) kept for the process and the OS",
            "device_kernel_launch_us": "\(measured): cost of a 1x1x1 cblas_sgemm call (per-op overhead)",
            "device_sync_us": "\(measured): one-way thread hand-off (DispatchSemaphore ping-pong / 2)",
            "h2d_pinned_gb_per_s": "\(measured): one prefetch thread gathering \(m.linkRowBytes)-byte rows into the working buffer",
            "h2d_pageable_gb_per_s": "same as pinned: no pinning on a single CPU",
            "d2h_pinned_gb_per_s": "\(measured): one-thread memcpy (rows written back to the pool)",
            "d2h_pageable_gb_per_s": "same as pinned: no pinning on a single CPU",
            "transfer_latency_us": "\(measured): one-way thread hand-off per request to the prefetch thread",
            "host_memcpy_gb_per_s": "\(measured): one-thread memcpy of large buffers",
            "host_memory_bandwidth_gb_per_s": "\(measured): memcpy split over \(m.threads) threads",
            "host_gather_gb_per_s": "\(measured): gather of \(m.linkRowBytes)-byte rows over \(m.threads) threads",
            "host_memory_gib": "physical memory reported by the OS",
            "host_cpu_cores": "active processors reported by the OS",
            "uvm_fault_us": "analogue: one thread hand-off per demand-paged page",
            "uvm_migration_gb_per_s": "analogue: one-thread memcpy",
            "uvm_page_kib": "analogue: 4 KiB OS page",
        ]
        return HardwareProfile(
            name: "this-machine",
            description: "This CPU as a two-tier system: compute thread = device, prefetch thread gathering rows = link, host pool in the same DRAM (BLAS core \(m.blasCore)).",
            deviceName: "one CPU core (\(m.blasCore))",
            deviceFP16TensorTFLOPS: bestSgemm / 1000, deviceMatmulEfficiency: 1,
            deviceMemoryBandwidthGBps: m.sgemvBytesPerSecond / gb, deviceMemoryEfficiency: 1,
            deviceMemoryGiB: memoryGiB, deviceReservedGiB: min(1, memoryGiB * 0.1),
            deviceKernelLaunchMicroseconds: max(m.sgemmCallMicroseconds, 0.01),
            deviceSyncMicroseconds: handoff,
            h2dPinnedGBps: link, h2dPageableGBps: link,
            d2hPinnedGBps: m.memcpyOneThreadBytesPerSecond / gb, d2hPageableGBps: m.memcpyOneThreadBytesPerSecond / gb,
            transferLatencyMicroseconds: handoff,
            hostMemcpyGBps: m.memcpyOneThreadBytesPerSecond / gb,
            hostMemoryBandwidthGBps: m.memcpyAllThreadsBytesPerSecond / gb,
            hostGatherGBps: m.gatherAllThreadsBytesPerSecond / gb,
            hostMemoryGiB: memoryGiB, hostCPUCores: m.cpuCores,
            uvmFaultMicroseconds: handoff, uvmMigrationGBps: m.memcpyOneThreadBytesPerSecond / gb, uvmPageKiB: 4,
            sources: sources)
    }

    /// Measures, builds the profile and writes it (atomically) as JSON.
    @discardableResult
    public func writeProfile(to url: URL) throws -> HardwareProfile {
        let p = profile(from: measure())
        try p.write(to: url)
        return p
    }

    // MARK: measurements

    func memcpyRate(threads: Int) -> Double {
        let n = max(1, threads)
        let size = settings.bufferBytes / n / 64 * 64 * n
        let src = SharedBuffer.allocate(size), dst = SharedBuffer.allocate(size)
        defer { src.free(); dst.free() }
        let chunk = size / n
        let t = Stopwatch.best(of: settings.repetitions) {
            if n == 1 {
                memcpy(dst.pointer, src.pointer, size)
            } else {
                DispatchQueue.concurrentPerform(iterations: n) { i in
                    memcpy(dst.pointer + i * chunk, src.pointer + i * chunk, chunk)
                }
            }
        }
        return Double(size) / t
    }

    /// Rows picked by a fixed linear congruential sequence (deterministic).
    func gatherRate(rowBytes: Int, threads: Int) -> Double {
        let poolRows = max(1, settings.bufferBytes / rowBytes)
        let rows = min(settings.gatherRows, poolRows)
        let pool = SharedBuffer.allocate(poolRows * rowBytes), out = SharedBuffer.allocate(rows * rowBytes)
        defer { pool.free(); out.free() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let picks = (0..<rows).map { _ -> Int in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33) % poolRows
        }
        let n = max(1, min(threads, rows))
        let per = (rows + n - 1) / n
        let t = Stopwatch.best(of: settings.repetitions) {
            picks.withUnsafeBufferPointer { idx in
                let indices = SharedIndices(base: idx.baseAddress!, count: idx.count)
                DispatchQueue.concurrentPerform(iterations: n) { part in
                    let lo = part * per, hi = min(rows, lo + per)
                    guard lo < hi else { return }
                    for r in lo..<hi {
                        memcpy(out.pointer + r * rowBytes, pool.pointer + indices.base[r] * rowBytes, rowBytes)
                    }
                }
            }
        }
        return Double(rows * rowBytes) / t
    }

    func sgemmRate(_ shape: (m: Int, n: Int, k: Int)) -> Double {
        let (m, n, k) = shape
        var a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let t = Stopwatch.best(of: settings.repetitions) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, &a, Int32(k), &b, Int32(n), 0, &c, Int32(n))
        }
        return 2 * Double(m) * Double(n) * Double(k) / t / 1e9
    }

    func sgemmCallMicroseconds() -> Double {
        var a: [Float] = [1], b: [Float] = [1], c: [Float] = [0]
        let calls = 2000
        let t = Stopwatch.best(of: settings.repetitions) {
            for _ in 0..<calls {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1, &a, 1, &b, 1, 0, &c, 1)
            }
        }
        return t / Double(calls) * 1e6
    }

    func sgemvRate() -> (gflops: Double, bytesPerSecond: Double) {
        let n = settings.sgemvSize
        var a = [Float](repeating: 0.5, count: n * n), x = [Float](repeating: 1, count: n)
        var y = [Float](repeating: 0, count: n)
        let t = Stopwatch.best(of: settings.repetitions) {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(n), 1, &a, Int32(n), &x, 1, 0, &y, 1)
        }
        let elements = Double(n) * Double(n)
        return (2 * elements / t / 1e9, elements * 4 / t)
    }

    /// Two threads take turns signalling each other; a round trip is two
    /// hand-offs.
    func handoffMicroseconds() -> Double {
        let ping = DispatchSemaphore(value: 0), pong = DispatchSemaphore(value: 0)
        let rounds = settings.handoffRounds
        let partner = Thread {
            for _ in 0..<rounds {
                ping.wait()
                pong.signal()
            }
        }
        partner.start()
        let t = Stopwatch.seconds {
            for _ in 0..<rounds {
                ping.signal()
                pong.wait()
            }
        }
        return t / Double(2 * rounds) * 1e6
    }
}

/// Read-only view of the row indices for the gather workers.
private struct SharedIndices: @unchecked Sendable {
    let base: UnsafePointer<Int>
    let count: Int
}
