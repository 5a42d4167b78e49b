import Foundation

/// Which columns of the skewed query/key space the partial query weight and the partial
/// key cache keep (docs/infinigen.md 1.2). Inputs are per-column mean magnitudes over the
/// calibration text; the result is ascending column indices.
public enum PartialColumns {
    public static func choose(_ variant: InfiniGenSettings.Columns, queryMagnitude q: [Float],
                              keyMagnitude k: [Float], count: Int) -> [Int] {
        precondition(q.count == k.count && count >= 1 && count <= q.count)
        switch variant {
        case .query:
            return top(q, count).sorted()
        case .sum:
            return top(zip(q, k).map { $0 + $1 }, count).sorted()
        case .union:
            return Set(top(q, count)).union(top(k, count)).sorted()
        }
    }

    /// Indices of the `count` largest values; ties go to the lower index.
    public static func top(_ values: [Float], _ count: Int) -> [Int] {
        let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        return Array(order.prefix(count))
    }
}
