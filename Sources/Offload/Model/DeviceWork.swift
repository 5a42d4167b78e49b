/// Work for the device: arithmetic, memory traffic and kernel count. Its
/// duration is a roofline: the slower of compute and memory, plus launches.
public struct DeviceWork: Sendable, Equatable, Codable {
    public var flops: Double
    /// Bytes read and written in device memory.
    public var bytes: Double
    public var kernels: Int

    public init(flops: Double = 0, bytes: Double = 0, kernels: Int = 0) {
        self.flops = flops
        self.bytes = bytes
        self.kernels = kernels
    }

    public static let none = DeviceWork()

    public static func + (a: DeviceWork, b: DeviceWork) -> DeviceWork {
        DeviceWork(flops: a.flops + b.flops, bytes: a.bytes + b.bytes, kernels: a.kernels + b.kernels)
    }
}
