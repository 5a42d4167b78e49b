import Foundation
import Numerics

/// Attention of one layer. Two paths:
/// - a causal block (several consecutive positions that read everything, e.g. a prompt)
///   computed with sgemm, 256 query rows at a time;
/// - single query rows (decode steps, and every policy-managed position of a
///   teacher-forced run), where each KV head reads exactly the rows its policy selected:
///   gathered into a compact buffer, never masked.
extension LlamaModel {
    func attention(layer l: Int, chunks: [Chunk], x: FloatBuffer, q: FloatBuffer, k: FloatBuffer,
                   v: FloatBuffer, out: FloatBuffer) {
        var wave: [RowTask] = []
        var tails: [(Chunk, Int)] = []
        for ch in chunks {
            // Positions ascend, so the rows split into a leading part that reads everything
            // and a policy-managed tail.
            var firstManaged = ch.count
            for i in 0..<ch.count where ch.sequence.managed(layer: l, position: ch.position0 + i) {
                firstManaged = i
                break
            }
            if firstManaged > 1 && batchInvariant {
                // Row by row, as decode computes them (sgemm would round differently).
                for i in 0..<firstManaged {
                    let task = prepareRow(layer: l, chunk: ch, index: i, x: x, q: q, k: k, v: v)
                    run([task], layer: l, q: q, out: out)
                    finish(task, layer: l)
                }
            } else if firstManaged > 1 {
                causalBlock(layer: l, chunk: ch, rows: firstManaged, x: x, q: q, k: k, v: v, out: out)
            } else if firstManaged == 1 {
                wave.append(prepareRow(layer: l, chunk: ch, index: 0, x: x, q: q, k: k, v: v))
            }
            let managed = ch.count - firstManaged
            if managed == 1 && ch.count == 1 {
                wave.append(prepareRow(layer: l, chunk: ch, index: 0, x: x, q: q, k: k, v: v))
            } else if managed > 0 {
                tails.append((ch, firstManaged))
            }
        }
        if !wave.isEmpty {
            run(wave, layer: l, q: q, out: out)
            for task in wave { finish(task, layer: l) }
        }
        // Policy-managed rows of longer chunks: each position's selection may depend on the
        // attention of the previous one, so a sequence goes row by row; row i of every
        // sequence forms one wave, which the threads share.
        var i = 0
        while true {
            let tasks = tails.compactMap { ch, start in
                start + i < ch.count ? prepareRow(layer: l, chunk: ch, index: start + i, x: x, q: q, k: k, v: v) : nil
            }
            if tasks.isEmpty { break }
            run(tasks, layer: l, q: q, out: out)
            for task in tasks { finish(task, layer: l) }
            i += 1
        }
    }

    /// One query row: which positions each KV head reads, and room for its weights.
    final class RowTask: @unchecked Sendable {
        let sequence: SequenceState
        let row: Int
        let position: Int
        let managed: Bool
        /// Per KV head: positions read (the query's own last), filled when the policy wants
        /// attention weights or the head reads a selection.
        var positions: [[Int32]]
        /// Per KV head: nil (every query head of the group reads all of `positions[h]`), or
        /// per query head the indices into `positions[h]` it reads (the query's own last).
        var heads: [[[Int32]]?]
        var weights: [FloatBuffer?]
        init(sequence: SequenceState, row: Int, position: Int, managed: Bool, kvHeads: Int) {
            self.sequence = sequence
            self.row = row
            self.position = position
            self.managed = managed
            positions = Array(repeating: [], count: kvHeads)
            heads = Array(repeating: nil, count: kvHeads)
            weights = Array(repeating: nil, count: kvHeads)
        }
    }

    private func prepareRow(layer l: Int, chunk ch: Chunk, index i: Int, x: FloatBuffer, q: FloatBuffer,
                            k: FloatBuffer, v: FloatBuffer) -> RowTask {
        let c = config
        let seq = ch.sequence, row = ch.row0 + i, pos = ch.position0 + i
        let managed = seq.managed(layer: l, position: pos)
        let task = RowTask(sequence: seq, row: row, position: pos, managed: managed, kvHeads: c.kvHeads)
        if let policy = seq.policy, l >= policy.firstObservedLayer {
            policy.observeInput(layer: l, position: pos, input: x.pointer + row * c.hiddenSize)
            policy.observeKeys(layer: l, position: pos, keys: k.pointer + row * c.kvDim, values: v.pointer + row * c.kvDim)
        }
        let wantsWeights = seq.policy.map { l >= $0.firstObservedLayer && $0.wantsAttentionWeights } ?? false
        var selection = seq.selection
        if managed {
            if let ahead = seq.aheadFor, ahead == (l, pos) {
                selection = seq.aheadSelection       // chosen while the previous layer ran
            } else {
                selection.readAll()
                seq.policy!.select(layer: l, position: pos, queries: q.pointer + row * c.qDim, selection: selection)
            }
            seq.aheadFor = nil
        }
        for h in 0..<c.kvHeads {
            if managed, var list = selection.positions[h] {
                if let lists = selection.perHead[h] {
                    precondition(lists.count == c.groupSize, "a per-head selection needs one list per query head of the group")
                    task.heads[h] = lists.map { Self.indices(of: $0, in: list, own: list.count) }
                }
                list.append(Int32(pos))
                task.positions[h] = list
            } else if wantsWeights || seq.storage.dense(layer: l, kvHead: h) == nil {
                task.positions[h] = (0...pos).map { Int32($0) }
            }
            if wantsWeights { task.weights[h] = FloatBuffer(count: c.groupSize * task.readCount(h), zeroed: false) }
        }
        // Only now: choosing the next layer's rows reuses the ahead selection read above.
        if ch.count == 1 { selectAhead(layer: l + 1, sequence: seq, position: pos) }
        return task
    }

    /// Where each of `subset`'s positions sits in `union` (both ascending), then `own`
    /// (the query's own row, last in the gathered rows).
    static func indices(of subset: [Int32], in union: [Int32], own: Int) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(subset.count + 1)
        var u = 0
        for p in subset {
            while u < union.count && union[u] < p { u += 1 }
            precondition(u < union.count && union[u] == p, "a query head's positions must be ascending and in the KV head's union")
            out.append(Int32(u))
        }
        out.append(Int32(own))
        return out
    }

    /// Decode with prefetching storage: choose layer `l`'s rows while layer l-1 runs (for
    /// policies that can) and tell the storage to start copying them.
    private func selectAhead(layer l: Int, sequence seq: SequenceState, position pos: Int) {
        guard seq.storage.prefetches, l < config.layers else { return }
        let rows: (Int) -> [Int32]
        if seq.managed(layer: l, position: pos) {
            guard let policy = seq.policy, policy.selectsAhead else { return }
            seq.aheadSelection.readAll()
            policy.select(layer: l, position: pos, queries: zeroQueries.pointer, selection: seq.aheadSelection)
            seq.aheadFor = (l, pos)
            rows = { seq.aheadSelection.positions[$0] ?? (0..<pos).map { Int32($0) } }
        } else {
            rows = { _ in (0..<pos).map { Int32($0) } }
        }
        for h in 0..<config.kvHeads { seq.storage.prefetch(layer: l, kvHead: h, positions: rows(h)) }
    }

    private func run(_ tasks: [RowTask], layer l: Int, q: FloatBuffer, out: FloatBuffer) {
        let c = config
        // Small waves (one short row) cost less than waking the workers.
        let work = tasks.reduce(0) { acc, t in acc + (0..<c.kvHeads).reduce(0) { $0 + t.readCount($1) } }
        if work < 8192 {
            for i in 0..<(tasks.count * c.kvHeads) { attendRow(tasks[i / c.kvHeads], kvHead: i % c.kvHeads, layer: l, q: q, out: out) }
            return
        }
        Parallel.forEach(tasks.count * c.kvHeads) { i in
            let task = tasks[i / c.kvHeads], h = i % c.kvHeads
            attendRow(task, kvHead: h, layer: l, q: q, out: out)
        }
    }

    private func finish(_ task: RowTask, layer l: Int) {
        guard let policy = task.sequence.policy, l >= policy.firstObservedLayer, policy.wantsAttentionWeights else { return }
        for h in 0..<config.kvHeads {
            guard let w = task.weights[h] else { continue }
            task.positions[h].withUnsafeBufferPointer { p in
                policy.observeAttention(layer: l, position: task.position, kvHead: h, positions: p,
                                        weights: w.pointer, stride: p.count)
            }
        }
    }

    /// Attention of the query heads of one KV group for one row over the rows it reads.
    private func attendRow(_ task: RowTask, kvHead h: Int, layer l: Int, q: FloatBuffer, out: FloatBuffer) {
        let c = config, d = c.headDim, G = c.groupSize
        let n = task.readCount(h)
        let scale = 1 / Float(d).squareRoot()
        withUnsafeTemporaryAllocation(of: Float.self, capacity: task.positions[h].isEmpty ? 0 : 2 * n * d) { gathered in
            let keys: UnsafePointer<Float>, values: UnsafePointer<Float>
            if task.positions[h].isEmpty, let dense = task.sequence.storage.dense(layer: l, kvHead: h) {
                (keys, values) = dense          // rows 0...position, in place
            } else {
                let kb = gathered.baseAddress!, vb = kb + n * d
                task.positions[h].withUnsafeBufferPointer {
                    task.sequence.storage.gather(layer: l, kvHead: h, positions: $0, keys: kb, values: vb)
                }
                (keys, values) = (UnsafePointer(kb), UnsafePointer(vb))
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: task.weights[h] == nil ? G * n : 0) { scratch in
                let probs = task.weights[h]?.pointer ?? scratch.baseAddress!
                for j in 0..<G {
                    let head = h * G + j
                    let qh = q.pointer + task.row * c.qDim + head * d
                    let p = probs + j * n
                    let o = out.pointer + task.row * c.qDim + head * d
                    o.update(repeating: 0, count: d)
                    if let rows = task.heads[h]?[j] {
                        // This query head reads only its own rows of the gathered union;
                        // its weight on the others is 0.
                        let m = rows.count
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: m) { w in
                            let wp = w.baseAddress!
                            for (i, r) in rows.enumerated() { wp[i] = Kernels.dot(keys + Int(r) * d, qh, d) * scale }
                            Kernels.softmax(wp, m)
                            p.update(repeating: 0, count: n)
                            for (i, r) in rows.enumerated() {
                                p[Int(r)] = wp[i]
                                Kernels.axpy(wp[i], values + Int(r) * d, o, d)
                            }
                        }
                        continue
                    }
                    for t in 0..<n { p[t] = Kernels.dot(keys + t * d, qh, d) * scale }
                    Kernels.softmax(p, n)
                    for t in 0..<n { Kernels.axpy(p[t], values + t * d, o, d) }
                }
            }
        }
        if let probe = task.sequence.probe, task.position >= task.sequence.policyStart {
            // Measured when the policy chose rows, or stores the cache its own way (a
            // quantized cache reads every row yet changes the output).
            let chose = task.positions[h].count < task.position + 1 || task.heads[h] != nil
            let ownStorage = task.sequence.storage.dense(layer: l, kvHead: h) == nil
            if task.managed && !task.positions[h].isEmpty && (chose || ownStorage) {
                task.positions[h].withUnsafeBufferPointer {
                    probe.measure(layer: l, kvHead: h, position: task.position, read: $0, heads: task.heads[h],
                                  queries: q.pointer + task.row * c.qDim + h * G * d,
                                  outputs: out.pointer + task.row * c.qDim + h * G * d)
                }
            } else {
                probe.recordFull(layer: l, kvHead: h, position: task.position, managed: task.managed)
            }
        }
    }

    /// Rows `0..<rows` of a chunk read every earlier position: sgemm per query head,
    /// 256 query rows at a time, then the policy's hooks in position order.
    private func causalBlock(layer l: Int, chunk ch: Chunk, rows: Int, x: FloatBuffer, q: FloatBuffer,
                             k: FloatBuffer, v: FloatBuffer, out: FloatBuffer) {
        let c = config, d = c.headDim, G = c.groupSize
        let scale = 1 / Float(d).squareRoot()
        let seq = ch.sequence
        let policy = seq.policy.flatMap { l >= $0.firstObservedLayer ? $0 : nil }
        let keepWeights = policy?.wantsAttentionWeights ?? false
        let total = ch.position0 + rows
        // Non-dense storage: gather everything once.
        var gatheredK: [FloatBuffer?] = Array(repeating: nil, count: c.kvHeads)
        var gatheredV: [FloatBuffer?] = Array(repeating: nil, count: c.kvHeads)
        for h in 0..<c.kvHeads where seq.storage.dense(layer: l, kvHead: h) == nil {
            let kb = FloatBuffer(count: total * d, zeroed: false), vb = FloatBuffer(count: total * d, zeroed: false)
            let all = (0..<total).map { Int32($0) }
            all.withUnsafeBufferPointer { seq.storage.gather(layer: l, kvHead: h, positions: $0, keys: kb.pointer, values: vb.pointer) }
            gatheredK[h] = kb
            gatheredV[h] = vb
        }
        let block = 256
        var r0 = 0
        while r0 < rows {
            let nb = min(block, rows - r0)
            let width = ch.position0 + r0 + nb             // keys visible to the block's last row
            let s = FloatBuffer(count: c.heads * nb * width, zeroed: false)
            for h in 0..<c.kvHeads {
                let dense = seq.storage.dense(layer: l, kvHead: h)
                let keys = dense?.keys ?? UnsafePointer(gatheredK[h]!.pointer)
                let values = dense?.values ?? UnsafePointer(gatheredV[h]!.pointer)
                for j in 0..<G {
                    let head = h * G + j
                    let sh = s.pointer + head * nb * width
                    let qh = q.pointer + (ch.row0 + r0) * c.qDim + head * d
                    BLAS.gemmABt(m: nb, n: width, k: d, a: qh, lda: c.qDim, b: keys, ldb: d, c: sh, ldc: width, alpha: scale)
                    for i in 0..<nb {
                        let visible = ch.position0 + r0 + i + 1
                        let row = sh + i * width
                        Kernels.softmax(row, visible)
                        if visible < width { (row + visible).update(repeating: 0, count: width - visible) }
                    }
                    BLAS.gemmAB(m: nb, n: d, k: width, a: sh, lda: width, b: values, ldb: d,
                                c: out.pointer + (ch.row0 + r0) * c.qDim + head * d, ldc: c.qDim)
                }
            }
            if let probe = seq.probe {
                for i in 0..<nb where ch.position0 + r0 + i >= seq.policyStart {
                    for h in 0..<c.kvHeads { probe.recordFull(layer: l, kvHead: h, position: ch.position0 + r0 + i, managed: false) }
                }
            }
            if let policy {
                for i in 0..<nb {
                    let row = ch.row0 + r0 + i, pos = ch.position0 + r0 + i
                    policy.observeInput(layer: l, position: pos, input: x.pointer + row * c.hiddenSize)
                    policy.observeKeys(layer: l, position: pos, keys: k.pointer + row * c.kvDim, values: v.pointer + row * c.kvDim)
                    guard keepWeights else { continue }
                    let all = (0...pos).map { Int32($0) }
                    all.withUnsafeBufferPointer { p in
                        for h in 0..<c.kvHeads {
                            policy.observeAttention(layer: l, position: pos, kvHead: h, positions: p,
                                                    weights: s.pointer + (h * G) * nb * width + i * width,
                                                    stride: nb * width)
                        }
                    }
                }
            }
            r0 += nb
        }
    }
}

extension LlamaModel.RowTask {
    /// Rows this head reads (the query's own included).
    @inline(__always) func readCount(_ h: Int) -> Int {
        positions[h].isEmpty ? position + 1 : positions[h].count
    }
}
