import Numerics

/// Which cached positions each KV head of one layer reads for one query position.
/// Reused across calls to avoid allocation on the decode path.
///
/// Grouped-query attention: a KV head serves `groupSize` query heads. A policy gives
/// either one list per KV head (every query head of the group reads it) or, through
/// `setPerHead`, one list per query head; then `positions[h]` is the union of the
/// group's lists — what the link moves and what the engine gathers once — and each query
/// head attends over exactly its own rows.
public final class Selection {
    /// `nil` for a head means "every position before the query"; otherwise the positions
    /// (each < query position, no duplicates, ascending) it reads. The query's own token
    /// is always read in addition. With per-query-head lists: their union.
    public var positions: [[Int32]?]
    /// Per KV head: `nil` (every query head reads `positions[h]`), or one list per query
    /// head of the group (head `h * groupSize + j` reads `perHead[h]![j]`), each a subset
    /// of `positions[h]`, ascending.
    public private(set) var perHead: [[[Int32]]?]

    public init(kvHeads: Int) {
        positions = Array(repeating: nil, count: kvHeads)
        perHead = Array(repeating: nil, count: kvHeads)
    }

    public func readAll() {
        for h in positions.indices {
            positions[h] = nil
            perHead[h] = nil
        }
    }

    /// One list per query head of KV head `h`'s group (each ascending, distinct, below the
    /// query position). Sets `positions[h]` to their union.
    public func setPerHead(_ h: Int, _ lists: [[Int32]]) {
        positions[h] = Self.union(lists)
        perHead[h] = lists
    }

    /// Sets one list for the whole group of KV head `h` (clears per-head lists).
    public func set(_ h: Int, _ list: [Int32]?) {
        positions[h] = list
        perHead[h] = nil
    }

    /// Sorted union of ascending lists.
    public static func union(_ lists: [[Int32]]) -> [Int32] {
        if lists.count == 1 { return lists[0] }
        var all = lists.flatMap { $0 }
        all.sort()
        var out: [Int32] = []
        out.reserveCapacity(all.count)
        for p in all where out.last != p { out.append(p) }
        return out
    }
}

/// A KV-cache management method: decides, per layer and KV head, which cached positions
/// attention reads, and may store the cache its own way. The engine gathers exactly the
/// selected rows; nothing is masked.
///
/// One instance serves one sequence (it keeps that sequence's state). The engine calls,
/// for each managed layer `l` and each position `t` in order:
/// `observeInput(l, t)`, `observeKeys(l, t)`, then for positions at or past the
/// sequence's `policyStart` `select(l, t)`, attention, and `observeAttention(l, t)`.
/// Positions before `policyStart` (the prompt, in decode runs) read everything, but the
/// hooks still run so the policy can build its state. A policy may use only what these
/// calls have shown it, which makes decode and teacher-forced runs see the same thing.
public protocol KVPolicy: AnyObject {
    /// Registry name.
    var name: String { get }
    /// Layers with a lower index always read the full cache (the artifact spares 0 and 1).
    var firstManagedLayer: Int { get }
    /// The observe hooks run from this layer on (default: `firstManagedLayer`); lower it to
    /// watch a spared layer, as InfiniGen does to speculate for the first managed one.
    var firstObservedLayer: Int { get }
    /// Whether `observeAttention` should receive attention weights (costs a copy).
    var wantsAttentionWeights: Bool { get }
    /// Whether `select(l+1, t)` may be called while layer l runs, before the hooks of
    /// (l+1, t): true when the choice depends only on earlier positions and earlier layers
    /// (InfiniGen's speculation, H2O's scores, fixed windows). Such calls get zeroed
    /// `queries`. Offloading storage uses it to prefetch the next layer's rows.
    var selectsAhead: Bool { get }

    func makeStorage(config: LlamaConfig, capacity: Int) -> KVStorage

    /// What reading cached rows costs on the CPU-to-GPU link in an offloading system.
    var transfer: TransferCost { get }
    /// Bytes the method keeps on the device per cached token (all layers and KV heads)
    /// besides the rows the link brings: InfiniGen's partial key cache, Quest's page
    /// bounds. Not link traffic; reported beside it (default 0).
    var deviceBytesPerToken: Double { get }

    /// The attention input (after RMSNorm, `hiddenSize` values) of `layer` at `position`.
    func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>)
    /// Post-rotary keys and values (`kvHeads × headDim`) written at `position`.
    func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>)
    /// Fills `selection` for the query at `position`. `queries` are the post-rotary query
    /// heads (`heads × headDim`) — real policies must not use them except as an oracle.
    func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection)
    /// Attention weights of the query heads of `kvHead`'s group over `positions` (the read
    /// positions, the query's own last): row j (query head `kvHead * groupSize + j`) starts
    /// at `weights + j * stride`. With per-query-head selections `positions` is the union
    /// and a head's weight is 0 on the rows it did not read.
    func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                          weights: UnsafePointer<Float>, stride: Int)

    /// An independent copy of this sequence's policy state, for a sequence forked after a
    /// shared prefix (`SequenceState.fork`): the copy must then act exactly as this policy
    /// would, and neither may change the other (deep-copy every mutable buffer).
    func fork() -> KVPolicy
}

public extension KVPolicy {
    var firstManagedLayer: Int { 2 }
    var firstObservedLayer: Int { firstManagedLayer }
    var transfer: TransferCost { .rows(bytesPerRow: nil, extraBytesPerStep: 0) }
    var deviceBytesPerToken: Double { 0 }
    var selectsAhead: Bool { false }
    var wantsAttentionWeights: Bool { false }
    func makeStorage(config: LlamaConfig, capacity: Int) -> KVStorage {
        DenseKVStorage(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
    }
    func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {}
    func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {}
    func observeAttention(layer: Int, position: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                          weights: UnsafePointer<Float>, stride: Int) {}
}

/// How a method pays for the rows it reads, per (layer, KV head, decode step), in an
/// offloading system where the KV cache lives in host memory. The query's own row is
/// produced on the device and never crosses.
public enum TransferCost: Sendable, Equatable {
    /// The cache is resident on the device: nothing crosses.
    case resident
    /// Each row read crosses: `bytesPerRow` (nil: K and V at fp16, 4·headDim bytes), plus
    /// `extraBytesPerStep` per (layer, KV head, step) (scales, page metadata, ...).
    case rows(bytesPerRow: Double?, extraBytesPerStep: Double)

    public func bytes(rowsRead: Int, headDim: Int) -> Double {
        switch self {
        case .resident: return 0
        case let .rows(perRow, extra): return Double(rowsRead) * (perRow ?? Double(4 * headDim)) + extra
        }
    }
}
