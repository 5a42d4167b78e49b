/// Turns work into seconds on one hardware profile.
public struct CostModel: Sendable {
    public let hardware: HardwareProfile

    public init(hardware: HardwareProfile) { self.hardware = hardware }

    private static let giga = 1e9
    private static let micro = 1e-6

    /// Roofline: the slower of arithmetic and memory traffic, plus a fixed
    /// cost per kernel.
    /// With `device_weight_stream_gb_per_s` the weight bytes stream at that rate and the
    /// rest at the memory bandwidth, one after the other.
    public func seconds(_ work: DeviceWork) -> Double {
        let compute = work.flops / (hardware.deviceFP16TensorTFLOPS * 1e12 * hardware.deviceMatmulEfficiency)
        let bandwidth = hardware.deviceMemoryBandwidthGBps * Self.giga * hardware.deviceMemoryEfficiency
        var memory = work.bytes / bandwidth
        if let stream = hardware.deviceWeightStreamGBps {
            let weights = min(work.weightBytes, work.bytes)
            memory = (work.bytes - weights) / bandwidth + weights / (stream * Self.giga)
        }
        return max(compute, memory) + Double(work.kernels) * hardware.deviceKernelLaunchMicroseconds * Self.micro
    }

    /// `demand`: a load nothing started earlier, which the device waits for (see
    /// `HardwareProfile.h2dDemandGBps`).
    public func hostToDevice(bytes: Double, pinned: Bool, transfers: Int, demand: Bool = false) -> Double {
        guard bytes > 0 || transfers > 0 else { return 0 }
        // A measured demand rate is the device's whole marginal cost of fetching the rows
        // itself (timed as extra engine time per byte), so no per-transfer hand-off is added.
        if demand, let d = hardware.h2dDemandGBps { return bytes / (d * Self.giga) }
        let rate = pinned ? hardware.h2dPinnedGBps : hardware.h2dPageableGBps
        return Double(transfers) * hardware.transferLatencyMicroseconds * Self.micro + bytes / (rate * Self.giga)
    }

    public func deviceToHost(bytes: Double, pinned: Bool, transfers: Int) -> Double {
        guard bytes > 0 || transfers > 0 else { return 0 }
        let rate = pinned ? hardware.d2hPinnedGBps : hardware.d2hPageableGBps
        return Double(transfers) * hardware.transferLatencyMicroseconds * Self.micro + bytes / (rate * Self.giga)
    }

    /// A large contiguous copy in host memory by the framework's thread pool.
    public func hostCopy(bytes: Double) -> Double { bytes / (hardware.hostMemoryBandwidthGBps * Self.giga) }

    /// Filling `bytes` of host memory (a write-only pass).
    public func hostFill(bytes: Double) -> Double { hostCopy(bytes: bytes) / 2 }

    /// Gathering scattered rows into a compact buffer.
    public func hostGather(bytes: Double) -> Double { bytes / (hardware.hostGatherGBps * Self.giga) }

    public var sync: Double { hardware.deviceSyncMicroseconds * Self.micro }

    /// Demand paging `bytes` onto the device: one fault per page plus the
    /// migration itself.
    public func uvmFaultIn(bytes: Double) -> Double {
        guard bytes > 0 else { return 0 }
        let faults = (bytes / (hardware.uvmPageKiB * 1024)).rounded(.up)
        return faults * hardware.uvmFaultMicroseconds * Self.micro + bytes / (hardware.uvmMigrationGBps * Self.giga)
    }

    /// Evicting `bytes` back to host memory (migration only; the driver
    /// evicts in large chunks without per-page faults).
    public func uvmEvict(bytes: Double) -> Double {
        bytes > 0 ? bytes / (hardware.uvmMigrationGBps * Self.giga) : 0
    }
}
