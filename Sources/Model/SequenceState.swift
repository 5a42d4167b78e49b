import Numerics

/// One sequence being decoded: its KV storage, its policy (nil = full cache) and how many
/// tokens it holds.
public final class SequenceState {
    public let storage: KVStorage
    public let policy: KVPolicy?
    /// Positions from here on go through the policy's selection; earlier ones (the prompt
    /// in a decode run) read everything. 0 makes every position policy-controlled, as in
    /// the teacher-forced accuracy runs.
    public var policyStart: Int
    public internal(set) var length = 0
    /// Instrumentation (nil: none); attach before the first forward call.
    public let probe: AttentionProbe?
    /// Scratch reused by the engine for this sequence's selections.
    let selection: Selection
    /// A selection made a layer early for prefetching, and the (layer, position) it is for.
    let aheadSelection: Selection
    var aheadFor: (layer: Int, position: Int)?

    /// `storage` replaces the policy's own (e.g. a `TwoTierKVStorage` for offloading runs).
    public init(config: LlamaConfig, policy: KVPolicy? = nil, policyStart: Int = 0, capacity: Int = 256,
                probe: AttentionProbe? = nil, storage: KVStorage? = nil) {
        self.policy = policy
        self.probe = probe
        self.policyStart = policyStart
        self.storage = storage ?? policy?.makeStorage(config: config, capacity: capacity)
            ?? DenseKVStorage(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
        self.selection = Selection(kvHeads: config.kvHeads)
        self.aheadSelection = Selection(kvHeads: config.kvHeads)
    }

    /// A copy of the sequence as it stands (same tokens, cache rows and policy state) that
    /// continues independently: several continuations of one prefix then cost the prefix
    /// once. Exact — each copy sees what a sequence fed prefix + continuation from scratch
    /// would. Throws when the storage cannot be copied or a probe is attached (its records
    /// would be shared).
    public func fork() throws -> SequenceState {
        guard probe == nil else { throw ModelError("a sequence with an attention probe cannot be forked") }
        let copy = SequenceState(storage: try storage.fork(), policy: policy?.fork(), policyStart: policyStart,
                                 kvHeads: selection.positions.count)
        copy.length = length
        return copy
    }

    private init(storage: KVStorage, policy: KVPolicy?, policyStart: Int, kvHeads: Int) {
        self.storage = storage
        self.policy = policy
        self.policyStart = policyStart
        self.probe = nil
        self.selection = Selection(kvHeads: kvHeads)
        self.aheadSelection = Selection(kvHeads: kvHeads)
    }

    /// Whether `layer` at `position` is read through the policy.
    @inline(__always)
    func managed(layer: Int, position: Int) -> Bool {
        guard let policy else { return false }
        return layer >= policy.firstManagedLayer && position >= policyStart
    }

    @inline(__always)
    var observed: Bool { policy != nil }
}

/// Precomputed rotary cos/sin per position, GGUF interleaved layout: pair (2i, 2i+1) of a
/// head rotates by position · base^(-2i/headDim).
final class RotaryTable: @unchecked Sendable {
    let half: Int
    let base: Double
    private(set) var positions = 0
    private(set) var table: FloatBuffer

    init(headDim: Int, base: Float) {
        half = headDim / 2
        self.base = Double(base)
        table = FloatBuffer(count: 0)
        grow(to: 1024)
    }

    func grow(to n: Int) {
        guard n > positions else { return }
        var m = max(positions, 1024)
        while m < n { m *= 2 }
        let t = FloatBuffer(count: m * half * 2, zeroed: false)
        for p in 0..<m {
            for i in 0..<half {
                let theta = Double(p) * pow(base, -2.0 * Double(i) / Double(2 * half))
                t[(p * half + i) * 2] = Float(cos(theta))
                t[(p * half + i) * 2 + 1] = Float(sin(theta))
            }
        }
        table = t
        positions = m
    }

    @inline(__always)
    func at(_ position: Int) -> UnsafePointer<Float> { UnsafePointer(table.pointer + position * half * 2) }
}

import Foundation
