import XCTest
@testable import Model
@testable import Policies

/// Wraps a policy, forwards every call, and checks each selection the engine gets:
/// distinct ascending positions below the query's, no more than `limit(layer, t)`.
final class CheckingPolicy: ForwardingPolicy {
    let limit: (Int) -> Int
    /// Replace "read everything" (nil) by the explicit list, forcing the engine's gather path.
    let explicit: Bool
    private(set) var selections = 0
    private(set) var problems: [String] = []

    init(_ inner: KVPolicy, explicit: Bool = false, limit: @escaping (Int) -> Int = { $0 }) {
        self.explicit = explicit
        self.limit = limit
        super.init(inner)
    }

    override func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        super.select(layer: layer, position: t, queries: queries, selection: selection)
        selections += 1
        for h in selection.positions.indices {
            let list = selection.positions[h] ?? (0..<t).map { Int32($0) }
            if list.count > limit(t) { problems.append("layer \(layer) t \(t) head \(h): \(list.count) > \(limit(t))") }
            for (i, p) in list.enumerated() where p < 0 || p >= t || (i > 0 && list[i - 1] >= p) {
                problems.append("layer \(layer) t \(t) head \(h): bad list \(list)")
                break
            }
            if explicit && selection.positions[h] == nil { selection.positions[h] = list }
        }
    }
}
