import Numerics

/// Rows of a fixed width indexed by position, grown by doubling (partial key caches,
/// speculated partial queries).
final class RowBuffer {
    let width: Int
    private(set) var capacity: Int
    private(set) var storage: FloatBuffer

    init(width: Int, capacity: Int = 256) {
        self.width = width
        self.capacity = max(capacity, 1)
        storage = FloatBuffer(count: self.capacity * max(width, 1))
    }

    /// Makes rows 0..<n addressable, keeping the contents.
    func reserve(_ n: Int) {
        guard n > capacity else { return }
        var c = capacity
        while c < n { c *= 2 }
        let grown = FloatBuffer(count: c * max(width, 1))
        grown.pointer.update(from: storage.pointer, count: capacity * width)
        storage = grown
        capacity = c
    }

    @inline(__always) func row(_ i: Int) -> UnsafeMutablePointer<Float> { storage.pointer + i * width }
}

extension RowBuffer {
    /// An independent copy with the same rows (for forking a sequence's policy).
    func copy() -> RowBuffer {
        let c = RowBuffer(width: width, capacity: capacity)
        c.storage.pointer.update(from: storage.pointer, count: capacity * width)
        return c
    }
}
