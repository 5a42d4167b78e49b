import Foundation
@testable import Offload

/// Round-number machines and tiny models whose costs can be worked out by hand.
enum Fixtures {
    /// 1 TFLOP/s, 1000 GB/s device memory, 10 GB/s link both ways, 100 GB/s
    /// host copy, 50 GB/s gather; fixed overheads negligible (1e-6 us).
    static func hardware(link: Double = 10, deviceMemoryGiB: Double = 64, reservedGiB: Double = 1,
                         uvmFaultMicroseconds: Double = 1e-6) -> HardwareProfile {
        var p = HardwareProfile(
            name: "test-box", description: "synthetic", deviceName: "test device",
            deviceFP16TensorTFLOPS: 1, deviceMatmulEfficiency: 1,
            deviceMemoryBandwidthGBps: 1000, deviceMemoryEfficiency: 1,
            deviceMemoryGiB: deviceMemoryGiB, deviceReservedGiB: reservedGiB,
            deviceKernelLaunchMicroseconds: 1e-6, deviceSyncMicroseconds: 1e-6,
            h2dPinnedGBps: link, h2dPageableGBps: link / 2, d2hPinnedGBps: link, d2hPageableGBps: link / 2,
            transferLatencyMicroseconds: 1e-6,
            hostMemcpyGBps: 10, hostMemoryBandwidthGBps: 100, hostGatherGBps: 50,
            hostMemoryGiB: 256, hostCPUCores: 8,
            uvmFaultMicroseconds: uvmFaultMicroseconds, uvmMigrationGBps: link, uvmPageKiB: 64, sources: [:])
        for (key, _) in p.numericFields { p.sources[key] = "test fixture" }
        return p
    }

    /// hidden 8, 2 query heads of 4, 1 KV head, ffn 16.
    static let tiny = ModelShape(name: "tiny", family: "test", layers: 1, hidden: 8, heads: 2, kvHeads: 1,
                                 headDim: 4, ffn: 16, vocab: 10, mlp: .plain)

    /// A small OPT-like model: big enough that bytes dominate fixed costs.
    static func model(layers: Int = 4) -> ModelShape {
        ModelShape(name: "small", family: "opt", layers: layers, hidden: 1024, heads: 8, kvHeads: 8,
                   headDim: 128, ffn: 4096, vocab: 1000, mlp: .plain)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("offload-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
