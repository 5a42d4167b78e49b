/// A fixed-size, 64-byte aligned Float buffer with reference semantics.
///
/// The engine's activations and caches live in these: aligned for SIMD loads,
/// never copied by accident, freed when the last reference goes.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int, zeroed: Bool = true) {
        precondition(count >= 0)
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        if zeroed { pointer.initialize(repeating: 0, count: count) }
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count, zeroed: false)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    /// Row `r` of a row-major matrix with `width` columns.
    @inline(__always) public func row(_ r: Int, width: Int) -> UnsafeMutablePointer<Float> {
        pointer + r * width
    }
}
