import Numerics

/// Where one sequence's keys and values live. The engine writes every new token's K/V
/// here and reads back only the rows a policy selects (`gather`), so a policy that stores
/// something else (packed low-bit values, say) plugs in its own storage.
public protocol KVStorage: AnyObject {
    /// Rows reserved per (layer, KV head).
    var capacity: Int { get }
    /// Makes room for positions `0..<n`.
    func reserve(_ n: Int)
    /// Stores K and V (each `kvHeads × headDim`, post-rotary) of all KV heads at `position`.
    func write(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>)
    /// Copies the rows at `positions` of one KV head into compact `keys`/`values` buffers
    /// (`positions.count × headDim` each).
    func gather(layer: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>)
    /// Rows of one KV head as contiguous f32 (`capacity × headDim`), when stored that way:
    /// lets full attention read the cache in place.
    func dense(layer: Int, kvHead: Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>)?
    /// Bytes this storage keeps per cached token and layer (all KV heads, K and V).
    var bytesPerTokenPerLayer: Double { get }
    /// Whether it wants `prefetch` calls (the engine then asks policies that can for the
    /// next layer's selection early).
    var prefetches: Bool { get }
    /// The rows `positions` of (layer, KV head) will be gathered soon: start copying them.
    func prefetch(layer: Int, kvHead: Int, positions: [Int32])
    /// An independent copy holding the same rows (for `SequenceState.fork`), or an error
    /// when this storage cannot be copied.
    func fork() throws -> KVStorage
}

public extension KVStorage {
    var prefetches: Bool { false }
    func prefetch(layer: Int, kvHead: Int, positions: [Int32]) {}
}

/// The default storage: f32 rows, contiguous per (layer, KV head), grown by doubling.
public final class DenseKVStorage: KVStorage {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public private(set) var capacity: Int
    private var keyBuffers: [FloatBuffer]
    private var valueBuffers: [FloatBuffer]
    private var written = 0

    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int = 256) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.capacity = max(capacity, 1)
        keyBuffers = (0..<(layers * kvHeads)).map { _ in FloatBuffer(count: max(capacity, 1) * headDim, zeroed: false) }
        valueBuffers = (0..<(layers * kvHeads)).map { _ in FloatBuffer(count: max(capacity, 1) * headDim, zeroed: false) }
    }

    public var bytesPerTokenPerLayer: Double { Double(2 * kvHeads * headDim * 4) }

    public func reserve(_ n: Int) {
        guard n > capacity else { return }
        var newCapacity = capacity
        while newCapacity < n { newCapacity *= 2 }
        func grow(_ old: FloatBuffer) -> FloatBuffer {
            let b = FloatBuffer(count: newCapacity * headDim, zeroed: false)
            b.pointer.update(from: old.pointer, count: min(written, capacity) * headDim)
            return b
        }
        keyBuffers = keyBuffers.map(grow)
        valueBuffers = valueBuffers.map(grow)
        capacity = newCapacity
    }

    public func write(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        reserve(position + 1)
        for h in 0..<kvHeads {
            let i = layer * kvHeads + h
            (keyBuffers[i].pointer + position * headDim).update(from: keys + h * headDim, count: headDim)
            (valueBuffers[i].pointer + position * headDim).update(from: values + h * headDim, count: headDim)
        }
        written = max(written, position + 1)
    }

    public func gather(layer: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                       keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        let i = layer * kvHeads + kvHead
        let k = keyBuffers[i].pointer, v = valueBuffers[i].pointer
        for (j, p) in positions.enumerated() {
            (keys + j * headDim).update(from: k + Int(p) * headDim, count: headDim)
            (values + j * headDim).update(from: v + Int(p) * headDim, count: headDim)
        }
    }

    public func dense(layer: Int, kvHead: Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>)? {
        let i = layer * kvHeads + kvHead
        return (UnsafePointer(keyBuffers[i].pointer), UnsafePointer(valueBuffers[i].pointer))
    }

    /// Copies the rows written so far; the copy grows on its own from here.
    public func fork() throws -> KVStorage {
        let copy = DenseKVStorage(layers: layers, kvHeads: kvHeads, headDim: headDim, capacity: capacity)
        let rows = min(written, capacity) * headDim
        for i in keyBuffers.indices {
            copy.keyBuffers[i].pointer.update(from: keyBuffers[i].pointer, count: rows)
            copy.valueBuffers[i].pointer.update(from: valueBuffers[i].pointer, count: rows)
        }
        copy.written = written
        return copy
    }
}
