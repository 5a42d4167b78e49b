import XCTest
@testable import Model
@testable import Policies

/// Wraps a policy, forwards every call, and checks each selection the engine gets:
/// distinct ascending positions below the query's, no more than `limit(layer, t)`.
final class CheckingPolicy: KVPolicy {
    let inner: KVPolicy
    let limit: (Int) -> Int
    /// Replace "read everything" (nil) by the explicit list, forcing the engine's gather path.
    let explicit: Bool
    private(set) var selections = 0
    private(set) var problems: [String] = []

    init(_ inner: KVPolicy, explicit: Bool = false, limit: @escaping (Int) -> Int = { $0 }) {
        self.inner = inner
        self.explicit = explicit
        self.limit = limit
    }

    var name: String { inner.name }
    var firstManagedLayer: Int { inner.firstManagedLayer }
    var firstObservedLayer: Int { inner.firstObservedLayer }
    var selectsAhead: Bool { inner.selectsAhead }
    var wantsAttentionWeights: Bool { inner.wantsAttentionWeights }
    var transfer: TransferCost { inner.transfer }
    func makeStorage(config: LlamaConfig, capacity: Int) -> KVStorage { inner.makeStorage(config: config, capacity: capacity) }
    func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        inner.observeInput(layer: layer, position: position, input: input)
    }
    func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        inner.observeKeys(layer: layer, position: position, keys: keys, values: values)
    }
    func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                          weights: UnsafePointer<Float>, stride: Int) {
        inner.observeAttention(layer: layer, position: position, kvHead: kvHead, positions: positions, weights: weights, stride: stride)
    }

    func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        inner.select(layer: layer, position: t, queries: queries, selection: selection)
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
