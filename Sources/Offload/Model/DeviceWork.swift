/// Work for the device: arithmetic, memory traffic and kernel count. Its
/// duration is a roofline: the slower of compute and memory, plus launches.
public struct DeviceWork: Sendable, Equatable, Codable {
    public var flops: Double
    /// Bytes read and written in device memory.
    public var bytes: Double
    /// The part of `bytes` that is weights streamed by matrix-vector products; a profile
    /// with `device_weight_stream_gb_per_s` charges it at that rate (quantized kernels
    /// that are neither compute- nor bandwidth-bound), others with the rest of `bytes`.
    public var weightBytes: Double
    public var kernels: Int

    public init(flops: Double = 0, bytes: Double = 0, weightBytes: Double = 0, kernels: Int = 0) {
        self.flops = flops
        self.bytes = bytes
        self.weightBytes = weightBytes
        self.kernels = kernels
    }

    public static let none = DeviceWork()

    public static func + (a: DeviceWork, b: DeviceWork) -> DeviceWork {
        DeviceWork(flops: a.flops + b.flops, bytes: a.bytes + b.bytes, weightBytes: a.weightBytes + b.weightBytes,
                   kernels: a.kernels + b.kernels)
    }

    enum CodingKeys: String, CodingKey { case flops, bytes, weightBytes, kernels }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        flops = try c.decode(Double.self, forKey: .flops)
        bytes = try c.decode(Double.self, forKey: .bytes)
        weightBytes = try c.decodeIfPresent(Double.self, forKey: .weightBytes) ?? 0
        kernels = try c.decode(Int.self, forKey: .kernels)
    }
}
