import Foundation

/// Which positions each query row of one head reads under a mask: `selected[i·L + j]` is 1
/// when row i keeps position j (j ≤ i). Rows marked `full` read every position 0...i.
public struct HeadMask: Sendable, Equatable {
    public let length: Int
    public var selected: [UInt8]
    public var full: [Bool]
    /// Rows whose threshold count reached the cap (fetch_max), rows that selected nothing
    /// (under additive masking they read everything), distinct tokens evicted from the pool.
    public var cappedRows = 0
    public var emptyRows = 0
    public var evictions = 0

    public init(length: Int) {
        self.length = length
        selected = [UInt8](repeating: 0, count: length * length)
        full = [Bool](repeating: false, count: length)
    }

    /// Every row full (unmanaged layers and the full method).
    public static func allFull(length: Int) -> HeadMask {
        var m = HeadMask(length: length)
        for i in 0..<length { m.full[i] = true }
        return m
    }

    public func isSelected(row i: Int, position j: Int) -> Bool {
        j <= i && (full[i] || selected[i * length + j] != 0)
    }

    /// Positions row i keeps, ascending.
    public func positions(row i: Int) -> [Int] { (0...i).filter { isSelected(row: i, position: $0) } }

    /// Selected cells of the causal triangle (the artifact's `fetch_mask.sum()` for one head).
    public var selectedCount: Int {
        var n = 0
        for i in 0..<length {
            if full[i] { n += i + 1; continue }
            let row = i * length
            for j in 0...i where selected[row + j] != 0 { n += 1 }
        }
        return n
    }
}
