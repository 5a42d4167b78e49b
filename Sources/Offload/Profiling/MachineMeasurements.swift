import Foundation

/// Raw numbers measured on this machine; `MachineProfiler` turns them into a
/// `HardwareProfile`.
public struct MachineMeasurements: Codable, Sendable, Equatable {
    /// memcpy of large buffers, bytes copied per second.
    public var memcpyOneThreadBytesPerSecond: Double
    public var memcpyAllThreadsBytesPerSecond: Double
    public var threads: Int
    /// Gathering scattered rows into a compact buffer on one thread, by row size.
    public var gatherOneThreadBytesPerSecond: [String: Double]
    /// The same on all threads, for `linkRowBytes` rows.
    public var gatherAllThreadsBytesPerSecond: Double
    public var linkRowBytes: Int
    /// cblas_sgemm on one thread, "MxNxK" -> GFLOP/s.
    public var sgemmGFLOPS: [String: Double]
    public var sgemmCallMicroseconds: Double
    public var sgemvGFLOPS: Double
    public var sgemvBytesPerSecond: Double
    /// One-way hand-off between two threads (semaphore ping-pong / 2).
    public var handoffMicroseconds: Double
    public var physicalMemoryBytes: Double
    public var cpuCores: Int
    public var blasCore: String
}
