import Model

/// A policy that hands every call to another one. Wrappers that watch a policy (timing,
/// counting reads, checking selections) subclass it and override only what they watch.
open class ForwardingPolicy: KVPolicy {
    public let inner: KVPolicy

    public init(_ inner: KVPolicy) { self.inner = inner }

    open var name: String { inner.name }
    open var firstManagedLayer: Int { inner.firstManagedLayer }
    open var firstObservedLayer: Int { inner.firstObservedLayer }
    open var wantsAttentionWeights: Bool { inner.wantsAttentionWeights }
    open var selectsAhead: Bool { inner.selectsAhead }
    open var transfer: TransferCost { inner.transfer }
    open var deviceBytesPerToken: Double { inner.deviceBytesPerToken }

    open func makeStorage(config: LlamaConfig, capacity: Int) -> KVStorage {
        inner.makeStorage(config: config, capacity: capacity)
    }

    open func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        inner.observeInput(layer: layer, position: position, input: input)
    }

    open func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        inner.observeKeys(layer: layer, position: position, keys: keys, values: values)
    }

    open func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {
        inner.select(layer: layer, position: position, queries: queries, selection: selection)
    }

    open func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                               weights: UnsafePointer<Float>, stride: Int) {
        inner.observeAttention(layer: layer, position: position, kvHead: kvHead, positions: positions,
                               weights: weights, stride: stride)
    }

    /// A plain forwarder forks its inner policy. A subclass that keeps state of its own
    /// (which a base-class copy would silently drop) must override this; it traps otherwise.
    open func fork() -> KVPolicy {
        precondition(type(of: self) == ForwardingPolicy.self, "\(type(of: self)) must override fork()")
        return ForwardingPolicy(inner.fork())
    }
}
