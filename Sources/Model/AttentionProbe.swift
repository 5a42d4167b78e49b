import Foundation
import Numerics
import Trace

/// Instrumentation: measures, for every attention row the engine computes past the
/// sequence's `policyStart`, what was read and how far that is from full attention. It
/// keeps its own unmodified f32 copy of the cache (a quantizing policy's storage is not
/// the reference), computes full attention beside the policy's, and writes one
/// `AttentionRecord` per (position, layer, KV head).
public final class AttentionProbe: @unchecked Sendable {
    public let recorder: TraceRecorder
    let mirror: DenseKVStorage
    let transfer: TransferCost
    let config: LlamaConfig

    public init(config: LlamaConfig, transfer: TransferCost, recorder: TraceRecorder = TraceRecorder(), capacity: Int = 256) {
        self.config = config
        self.transfer = transfer
        self.recorder = recorder
        mirror = DenseKVStorage(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
    }

    /// A row that read every earlier position.
    func recordFull(layer: Int, kvHead: Int, position: Int, managed: Bool) {
        recorder.add(AttentionRecord(position: position, layer: layer, kvHead: kvHead, managed: managed,
                                     rowsRead: position, rowsAvailable: position,
                                     linkBytes: KVLedger.linkBytes(rows: position, managed: managed, transfer: transfer,
                                                                   headDim: config.headDim),
                                     recall: 1, mass: 1, cosine: 1, queryHeadRowsRead: Double(position)))
    }

    /// A row that read `read` (own position last) and produced `outputs` (the group's heads).
    /// `heads`: per query head, the indices into `read` it attended over (nil: all of
    /// `read`). Rows and bytes count the union `read` (what the link moves); recall, mass
    /// and cosine are each query head's over its own rows.
    func measure(layer: Int, kvHead h: Int, position t: Int, read: UnsafeBufferPointer<Int32>, heads: [[Int32]]? = nil,
                 queries: UnsafePointer<Float>, outputs: UnsafePointer<Float>) {
        let d = config.headDim, G = config.groupSize, n = t + 1
        let scale = 1 / Float(d).squareRoot()
        let (keys, values) = mirror.dense(layer: layer, kvHead: h)!
        let union = read.count - 1
        var recall = 0.0, mass = 0.0, cosine = 0.0, headRows = 0.0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * n + d) { scratch in
            let p = scratch.baseAddress!, sorted = p + n, full = sorted + n
            for j in 0..<G {
                let q = queries + j * d
                for i in 0..<n { p[i] = Kernels.dot(keys + i * d, q, d) * scale }
                Kernels.softmax(p, n)
                full.update(repeating: 0, count: d)
                for i in 0..<n { Kernels.axpy(p[i], values + i * d, full, d) }
                let o = outputs + j * d
                let denominator = (Kernels.dot(o, o, d) * Kernels.dot(full, full, d)).squareRoot()
                cosine += denominator > 0 ? Double(Kernels.dot(o, full, d) / denominator) : 1
                // This head's own rows: all of `read`, or its subset (own position last).
                let own: [Int32] = heads.map { $0[j].map { read[Int($0)] } } ?? Array(read)
                let k = own.count - 1
                headRows += Double(k)
                var m = 0.0
                for i in own { m += Double(p[Int(i)]) }
                mass += m
                if k == 0 || k >= t {
                    recall += 1
                } else {
                    sorted.update(from: p, count: t)
                    let threshold = Kernels.kthLargest(sorted, t, k)
                    var hits = 0
                    for i in own.dropLast() where p[Int(i)] >= threshold { hits += 1 }
                    recall += Double(min(hits, k)) / Double(k)
                }
            }
        }
        recorder.add(AttentionRecord(position: t, layer: layer, kvHead: h, managed: true, rowsRead: union, rowsAvailable: t,
                                     linkBytes: KVLedger.linkBytes(rows: union, managed: true, transfer: transfer, headDim: d),
                                     recall: recall / Double(G), mass: mass / Double(G), cosine: cosine / Double(G),
                                     queryHeadRowsRead: headRows / Double(G)))
    }
}
