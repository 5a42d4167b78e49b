import Foundation

extension HardwareProfile {
    /// The numeric fields with their JSON names, in file order.
    var numericFields: [(key: String, value: Double)] {
        typealias K = CodingKeys
        return [
            (K.deviceFP16TensorTFLOPS.rawValue, deviceFP16TensorTFLOPS),
            (K.deviceMatmulEfficiency.rawValue, deviceMatmulEfficiency),
            (K.deviceMemoryBandwidthGBps.rawValue, deviceMemoryBandwidthGBps),
            (K.deviceMemoryEfficiency.rawValue, deviceMemoryEfficiency),
            (K.deviceMemoryGiB.rawValue, deviceMemoryGiB),
            (K.deviceReservedGiB.rawValue, deviceReservedGiB),
            (K.deviceKernelLaunchMicroseconds.rawValue, deviceKernelLaunchMicroseconds),
            (K.deviceSyncMicroseconds.rawValue, deviceSyncMicroseconds),
            (K.h2dPinnedGBps.rawValue, h2dPinnedGBps),
            (K.h2dPageableGBps.rawValue, h2dPageableGBps),
            (K.d2hPinnedGBps.rawValue, d2hPinnedGBps),
            (K.d2hPageableGBps.rawValue, d2hPageableGBps),
            (K.transferLatencyMicroseconds.rawValue, transferLatencyMicroseconds),
            (K.hostMemcpyGBps.rawValue, hostMemcpyGBps),
            (K.hostMemoryBandwidthGBps.rawValue, hostMemoryBandwidthGBps),
            (K.hostGatherGBps.rawValue, hostGatherGBps),
            (K.hostMemoryGiB.rawValue, hostMemoryGiB),
            (K.hostCPUCores.rawValue, Double(hostCPUCores)),
            (K.uvmFaultMicroseconds.rawValue, uvmFaultMicroseconds),
            (K.uvmMigrationGBps.rawValue, uvmMigrationGBps),
            (K.uvmPageKiB.rawValue, uvmPageKiB),
        ] + (deviceWeightStreamGBps.map { [(K.deviceWeightStreamGBps.rawValue, $0)] } ?? [])
            + (h2dDemandGBps.map { [(K.h2dDemandGBps.rawValue, $0)] } ?? [])
    }

    /// Throws the first problem found: a non-positive or non-finite number, an
    /// efficiency above 1, reserved memory not below the total, or a number
    /// without a source.
    public func validate(file: String) throws {
        func fail(_ field: String, _ reason: String) -> OffloadError {
            .invalidProfile(file: file, field: field, reason: reason)
        }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("name", "is empty") }
        if deviceName.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("device_name", "is empty") }
        for (key, value) in numericFields {
            guard value.isFinite, value > 0 else { throw fail(key, "must be a positive number (got \(value))") }
            let source = sources[key]?.trimmingCharacters(in: .whitespaces) ?? ""
            if source.isEmpty { throw fail(key, "has no entry in 'sources'") }
        }
        for key in [CodingKeys.deviceMatmulEfficiency, .deviceMemoryEfficiency] {
            let value = key == .deviceMatmulEfficiency ? deviceMatmulEfficiency : deviceMemoryEfficiency
            if value > 1 { throw fail(key.rawValue, "is a fraction and must be at most 1 (got \(value))") }
        }
        if deviceReservedGiB >= deviceMemoryGiB {
            throw fail(CodingKeys.deviceReservedGiB.rawValue, "must be below device_memory_gib")
        }
    }
}
