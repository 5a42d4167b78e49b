import Foundation

/// One machine as the timeline simulator sees it: a "device" that computes,
/// two link directions, and a host with its own memory and cores.
///
/// Units are spelled in the JSON field names: `_gb_per_s` is 1e9 bytes per
/// second, `_gib` is 2^30 bytes, `_us` is microseconds. Every number carries a
/// `sources` entry naming the datasheet, paper or measurement it came from.
public struct HardwareProfile: Codable, Sendable, Equatable {
    public var name: String
    public var description: String
    public var deviceName: String

    /// Dense (non-sparse) fp16 tensor throughput of the device, TFLOP/s.
    public var deviceFP16TensorTFLOPS: Double
    /// Fraction of that peak that large GEMMs reach in practice.
    public var deviceMatmulEfficiency: Double
    public var deviceMemoryBandwidthGBps: Double
    /// Fraction of the memory bandwidth that streaming kernels reach.
    public var deviceMemoryEfficiency: Double
    public var deviceMemoryGiB: Double
    /// Device memory not available to the workload (runtime context, allocator
    /// slack, activation buffers).
    public var deviceReservedGiB: Double
    /// Fixed cost per kernel (launch plus framework dispatch).
    public var deviceKernelLaunchMicroseconds: Double
    /// Host-side cost of one device synchronisation round trip.
    public var deviceSyncMicroseconds: Double

    public var h2dPinnedGBps: Double
    public var h2dPageableGBps: Double
    public var d2hPinnedGBps: Double
    public var d2hPageableGBps: Double
    /// Fixed cost per transfer (API call, DMA setup).
    public var transferLatencyMicroseconds: Double

    /// memcpy of large buffers by one thread, bytes copied per second.
    public var hostMemcpyGBps: Double
    /// memcpy with all cores, bytes copied per second.
    public var hostMemoryBandwidthGBps: Double
    /// Gathering scattered rows (128 to 1152 bytes) into a compact buffer.
    public var hostGatherGBps: Double
    public var hostMemoryGiB: Double
    public var hostCPUCores: Int

    /// Amortised cost of one demand-paging fault of `uvmPageKiB`.
    public var uvmFaultMicroseconds: Double
    public var uvmMigrationGBps: Double
    public var uvmPageKiB: Double

    /// Optional: weight bytes per second that the device's decode matrix-vector kernels
    /// consume when that is neither the matmul rate nor the memory bandwidth (the
    /// workbench's quantized kernels on a CPU core). Absent: weights are ordinary bytes.
    public var deviceWeightStreamGBps: Double?
    /// Optional: rate of a demand load, one the device waits for because nothing started it
    /// earlier, on a machine where the device makes such copies itself: the copy brings the
    /// rows into its cache and largely replaces its own read of them, so only the marginal
    /// cost counts. Absent: demand loads cost like any other.
    public var h2dDemandGBps: Double?

    /// Field name (JSON spelling) -> where the number comes from.
    public var sources: [String: String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, sources
        case deviceName = "device_name"
        case deviceFP16TensorTFLOPS = "device_fp16_tensor_tflops"
        case deviceMatmulEfficiency = "device_matmul_efficiency"
        case deviceMemoryBandwidthGBps = "device_memory_bandwidth_gb_per_s"
        case deviceMemoryEfficiency = "device_memory_efficiency"
        case deviceMemoryGiB = "device_memory_gib"
        case deviceReservedGiB = "device_reserved_gib"
        case deviceKernelLaunchMicroseconds = "device_kernel_launch_us"
        case deviceSyncMicroseconds = "device_sync_us"
        case h2dPinnedGBps = "h2d_pinned_gb_per_s"
        case h2dPageableGBps = "h2d_pageable_gb_per_s"
        case d2hPinnedGBps = "d2h_pinned_gb_per_s"
        case d2hPageableGBps = "d2h_pageable_gb_per_s"
        case transferLatencyMicroseconds = "transfer_latency_us"
        case hostMemcpyGBps = "host_memcpy_gb_per_s"
        case hostMemoryBandwidthGBps = "host_memory_bandwidth_gb_per_s"
        case hostGatherGBps = "host_gather_gb_per_s"
        case hostMemoryGiB = "host_memory_gib"
        case hostCPUCores = "host_cpu_cores"
        case uvmFaultMicroseconds = "uvm_fault_us"
        case uvmMigrationGBps = "uvm_migration_gb_per_s"
        case uvmPageKiB = "uvm_page_kib"
        case deviceWeightStreamGBps = "device_weight_stream_gb_per_s"
        case h2dDemandGBps = "h2d_demand_gb_per_s"
    }

    public init(name: String, description: String, deviceName: String,
                deviceFP16TensorTFLOPS: Double, deviceMatmulEfficiency: Double,
                deviceMemoryBandwidthGBps: Double, deviceMemoryEfficiency: Double,
                deviceMemoryGiB: Double, deviceReservedGiB: Double,
                deviceKernelLaunchMicroseconds: Double, deviceSyncMicroseconds: Double,
                h2dPinnedGBps: Double, h2dPageableGBps: Double,
                d2hPinnedGBps: Double, d2hPageableGBps: Double,
                transferLatencyMicroseconds: Double,
                hostMemcpyGBps: Double, hostMemoryBandwidthGBps: Double, hostGatherGBps: Double,
                hostMemoryGiB: Double, hostCPUCores: Int,
                uvmFaultMicroseconds: Double, uvmMigrationGBps: Double, uvmPageKiB: Double,
                deviceWeightStreamGBps: Double? = nil, h2dDemandGBps: Double? = nil,
                sources: [String: String]) {
        self.name = name
        self.description = description
        self.deviceName = deviceName
        self.deviceFP16TensorTFLOPS = deviceFP16TensorTFLOPS
        self.deviceMatmulEfficiency = deviceMatmulEfficiency
        self.deviceMemoryBandwidthGBps = deviceMemoryBandwidthGBps
        self.deviceMemoryEfficiency = deviceMemoryEfficiency
        self.deviceMemoryGiB = deviceMemoryGiB
        self.deviceReservedGiB = deviceReservedGiB
        self.deviceKernelLaunchMicroseconds = deviceKernelLaunchMicroseconds
        self.deviceSyncMicroseconds = deviceSyncMicroseconds
        self.h2dPinnedGBps = h2dPinnedGBps
        self.h2dPageableGBps = h2dPageableGBps
        self.d2hPinnedGBps = d2hPinnedGBps
        self.d2hPageableGBps = d2hPageableGBps
        self.transferLatencyMicroseconds = transferLatencyMicroseconds
        self.hostMemcpyGBps = hostMemcpyGBps
        self.hostMemoryBandwidthGBps = hostMemoryBandwidthGBps
        self.hostGatherGBps = hostGatherGBps
        self.hostMemoryGiB = hostMemoryGiB
        self.hostCPUCores = hostCPUCores
        self.uvmFaultMicroseconds = uvmFaultMicroseconds
        self.uvmMigrationGBps = uvmMigrationGBps
        self.uvmPageKiB = uvmPageKiB
        self.deviceWeightStreamGBps = deviceWeightStreamGBps
        self.h2dDemandGBps = h2dDemandGBps
        self.sources = sources
    }

    /// Usable device memory in bytes.
    public var deviceCapacityBytes: Double { (deviceMemoryGiB - deviceReservedGiB) * 1_073_741_824 }
}
