import Dispatch
import Model

/// Wraps a policy and measures the time spent in its hooks (speculation, selection,
/// bookkeeping): the policy's own overhead per decode step, for `infinigen bench`.
public final class TimedPolicy: ForwardingPolicy {
    public private(set) var seconds = 0.0

    public func reset() { seconds = 0 }

    @inline(__always) private func timed(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    public override func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        timed { super.observeInput(layer: layer, position: position, input: input) }
    }

    public override func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        timed { super.observeKeys(layer: layer, position: position, keys: keys, values: values) }
    }

    public override func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {
        timed { super.select(layer: layer, position: position, queries: queries, selection: selection) }
    }

    public override func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                                          weights: UnsafePointer<Float>, stride: Int) {
        timed { super.observeAttention(layer: layer, position: position, kvHead: kvHead, positions: positions,
                                       weights: weights, stride: stride) }
    }

    /// A timer for the copy, starting from the time measured so far.
    public override func fork() -> KVPolicy {
        let copy = TimedPolicy(inner.fork())
        copy.seconds = seconds
        return copy
    }
}
