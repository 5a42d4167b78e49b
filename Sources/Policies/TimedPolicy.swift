import Dispatch
import Model

/// Wraps a policy and measures the time spent in its hooks (speculation, selection,
/// bookkeeping): the policy's own overhead per decode step, for `infinigen bench`.
public final class TimedPolicy: KVPolicy {
    public let inner: KVPolicy
    public private(set) var seconds = 0.0

    public init(_ inner: KVPolicy) { self.inner = inner }

    public func reset() { seconds = 0 }

    @inline(__always) private func timed<T>(_ body: () -> T) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return body()
    }

    public var name: String { inner.name }
    public var firstManagedLayer: Int { inner.firstManagedLayer }
    public var firstObservedLayer: Int { inner.firstObservedLayer }
    public var wantsAttentionWeights: Bool { inner.wantsAttentionWeights }
    public var selectsAhead: Bool { inner.selectsAhead }
    public var transfer: TransferCost { inner.transfer }

    public func makeStorage(config: LlamaConfig, capacity: Int) -> KVStorage {
        inner.makeStorage(config: config, capacity: capacity)
    }

    public func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        timed { inner.observeInput(layer: layer, position: position, input: input) }
    }

    public func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        timed { inner.observeKeys(layer: layer, position: position, keys: keys, values: values) }
    }

    public func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {
        timed { inner.select(layer: layer, position: position, queries: queries, selection: selection) }
    }

    public func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                                 weights: UnsafePointer<Float>, stride: Int) {
        timed { inner.observeAttention(layer: layer, position: position, kvHead: kvHead, positions: positions,
                                       weights: weights, stride: stride) }
    }
}
