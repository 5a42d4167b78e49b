import Foundation
import XCTest
import Model
import Numerics
@testable import Policies

/// InfiniGen on the real SmolLM2 model (skipped when the assets are absent).
final class InfiniGenRealModelTests: XCTestCase {
    // MARK: skewing

    func testSkewingPreservesAttentionLogitsAndConcentratesEnergy() throws {
        let model = try InfiniGenReal.model()
        let c = model.config, d = c.headDim, G = c.groupSize
        let calibration = try SkewingCache.calibration(model: model, tokens: try InfiniGenReal.novelTokens("emma", count: 2048))
        print(String(format: "infinigen: skewing calibration on %d tokens took %.2f s (forward pass %.2f s)",
                     calibration.tokenCount, calibration.seconds, calibration.forwardSeconds))

        // Held-out text: post-rotary Q and K of Pride and Prejudice.
        let n = 256
        let tokens = try InfiniGenReal.novelTokens("prideprejudice", count: n)
        let recorder = CalibrationRecorder(config: c, tokens: n)
        try model.forward([(model.newSequence(policy: recorder, policyStart: Int.max, capacity: n), tokens)], logits: .none)

        var heldRaw = 0.0, heldSkewed = 0.0, heldCount = 0
        for l in [2, 14, c.layers - 1] {
            let q = FloatBuffer(count: n * c.qDim)
            BLAS.gemmABt(m: n, n: c.qDim, k: c.hiddenSize, a: recorder.inputs[l].pointer, lda: c.hiddenSize,
                         b: model.weights.layers[l].wq.dense.pointer, ldb: c.hiddenSize, c: q.pointer, ldc: c.qDim)
            for t in 0..<n { model.applyRotary(q.pointer + t * c.qDim, heads: c.heads, position: t) }
            for g in 0..<c.kvHeads {
                let a = calibration.group(layer: l, kvHead: g).columnsOfA
                // A is orthogonal.
                for i in 0..<d {
                    for j in 0..<d {
                        var dot: Float = 0
                        for r in 0..<d { dot += a[i * d + r] * a[j * d + r] }
                        XCTAssertEqual(dot, i == j ? 1 : 0, accuracy: 1e-5)
                    }
                }
                let kp = skew(recorder.keys[l].pointer + g * d, rows: n, stride: c.kvDim, a: a, d: d)
                for j in 0..<G {
                    let head = g * G + j
                    let qp = skew(q.pointer + head * d, rows: n, stride: c.qDim, a: a, d: d)
                    var diff = 0.0, norm = 0.0
                    for t in 0..<n {
                        for s in 0...t {
                            let exact = Double(Kernels.dot(q.pointer + t * c.qDim + head * d, recorder.keys[l].pointer + s * c.kvDim + g * d, d))
                            let skewed = Double(Kernels.dot(qp + t * d, kp + s * d, d))
                            diff += (exact - skewed) * (exact - skewed)
                            norm += exact * exact
                        }
                    }
                    let relative = (diff / norm).squareRoot()
                    XCTAssertLessThan(relative, 1e-4, "layer \(l) head \(head): QKᵀ changed by skewing")
                    heldRaw += topShare(q.pointer + head * d, rows: n, stride: c.qDim, d: d)
                    heldSkewed += topShare(qp, rows: n, stride: d, d: d)
                    heldCount += 1
                    qp.deallocate()
                }
                kp.deallocate()
            }
        }
        let managed = 2..<c.layers
        let raw = calibration.meanEnergyShare(layers: managed, fraction: 0.2, skewed: false)
        let skewed = calibration.meanEnergyShare(layers: managed, fraction: 0.2, skewed: true)
        print(String(format: "infinigen: top-20%% columns hold %.1f%% of query energy before skewing, %.1f%% after (calibration, layers 2-%d mean); held-out Pride and Prejudice, layers 2/14/%d: %.1f%% -> %.1f%%",
                     raw * 100, skewed * 100, c.layers - 1, c.layers - 1, heldRaw / Double(heldCount) * 100, heldSkewed / Double(heldCount) * 100))
        XCTAssertGreaterThan(skewed, raw, "skewing must concentrate query energy")
        XCTAssertGreaterThan(heldSkewed, heldRaw, "the concentration must carry over to other text")
    }

    /// The eigenvectors of MᵀM that the calibration uses are the right singular vectors
    /// `sgesdd` finds on M (up to sign), wherever the singular values are well separated.
    func testSkewingMatchesLAPACKSVD() throws {
        let model = try InfiniGenReal.model()
        let c = model.config, d = c.headDim, G = c.groupSize
        let n = 256
        let tokens = try InfiniGenReal.novelTokens("prideprejudice", count: n)
        let calibration = try SkewingCalibration.compute(model: model, tokens: tokens)
        let recorder = CalibrationRecorder(config: c, tokens: n)
        try model.forward([(model.newSequence(policy: recorder, policyStart: Int.max, capacity: n), tokens)], logits: .none)
        for (l, g) in [(2, 0), (c.layers - 1, c.kvHeads - 1)] {
            let q = FloatBuffer(count: n * c.qDim)
            BLAS.gemmABt(m: n, n: c.qDim, k: c.hiddenSize, a: recorder.inputs[l].pointer, lda: c.hiddenSize,
                         b: model.weights.layers[l].wq.dense.pointer, ldb: c.hiddenSize, c: q.pointer, ldc: c.qDim)
            var stacked: [Float] = []
            for t in 0..<n { model.applyRotary(q.pointer + t * c.qDim, heads: c.heads, position: t) }
            for j in 0..<G {
                for t in 0..<n { stacked.append(contentsOf: UnsafeBufferPointer(start: q.pointer + t * c.qDim + (g * G + j) * d, count: d)) }
            }
            let svd = try LAPACK.svd(stacked, rows: d, cols: G * n)
            let ours = calibration.group(layer: l, kvHead: g)
            var compared = 0
            for col in 0..<(d / 4) {
                XCTAssertEqual(ours.sigma[col], svd.s[col], accuracy: svd.s[0] * 1e-4, "singular value \(col)")
                let gapBefore = col == 0 ? Float.infinity : svd.s[col - 1] - svd.s[col]
                let gapAfter = svd.s[col] - svd.s[col + 1]
                guard min(gapBefore, gapAfter) > 0.02 * svd.s[col] else { continue }
                var dot: Float = 0
                for i in 0..<d { dot += ours.columnsOfA[col * d + i] * svd.u[col * d + i] }
                XCTAssertEqual(abs(dot), 1, accuracy: 1e-3, "layer \(l) group \(g) column \(col)")
                compared += 1
            }
            XCTAssertGreaterThan(compared, 3)
        }
    }

    /// rows × d: x·A (A's columns are the rows of `a`).
    private func skew(_ x: UnsafePointer<Float>, rows: Int, stride: Int, a: [Float], d: Int) -> UnsafeMutablePointer<Float> {
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
        for r in 0..<rows {
            for col in 0..<d { out[r * d + col] = a.withUnsafeBufferPointer { Kernels.dot(x + r * stride, $0.baseAddress! + col * d, d) } }
        }
        return out
    }

    /// Share of energy in the strongest 20% of columns.
    private func topShare(_ x: UnsafePointer<Float>, rows: Int, stride: Int, d: Int) -> Double {
        var e = [Double](repeating: 0, count: d)
        for r in 0..<rows { for j in 0..<d { e[j] += Double(x[r * stride + j] * x[r * stride + j]) } }
        let sorted = e.sorted(by: >)
        return sorted.prefix(Int(Double(d) * 0.2)).reduce(0, +) / sorted.reduce(0, +)
    }

    func testCalibrationIsSharedAndErrorsAreClear() throws {
        let model = try InfiniGenReal.model()
        let a = try InfiniGenReal.method("infinigen")
        let start = Date()
        let b = try InfiniGenReal.method("infinigen:ratio=0.5,columns=query")
        XCTAssertTrue(a.calibration === b.calibration, "one calibration per model and text")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "the second method must reuse the skewing")
        XCTAssertThrowsError(try PolicyRegistry.make("infinigen", model: model)) {
            XCTAssertEqual("\($0)", "this method needs calibration text, and none was provided")
        }
        XCTAssertThrowsError(try PolicyRegistry.make("infinigen", model: model, context: MethodContext(calibrationTokens: { [1, 2, 3] }))) {
            XCTAssertEqual("\($0)", "infinigen: calibration text has 3 tokens; skewing needs at least 64")
        }
        XCTAssertThrowsError(try PolicyRegistry.make("infinigen", model: model, context: MethodContext(calibrationTokens: { [1, -2, 3] }))) {
            XCTAssertEqual("\($0)", "infinigen: calibration token id -2 is outside the vocabulary")
        }
    }

    // MARK: columns

    func testColumnVariantsGiveValidSets() throws {
        let c = try InfiniGenReal.model().config
        for variant in ["query", "union", "sum"] {
            for ratio in [0.05, 0.2, 1.0] {
                for skew in [true, false] {
                    let m = try InfiniGenReal.method("infinigen:columns=\(variant),ratio=\(ratio),skew=\(skew)")
                    let width = Int(Double(c.headDim) * ratio)
                    for l in 0..<c.layers {
                        for g in 0..<c.kvHeads {
                            let cols = m.partialColumns(layer: l, kvHead: g)
                            XCTAssertEqual(cols, Array(Set(cols)).sorted(), "ascending and distinct")
                            XCTAssertTrue(cols.allSatisfy { (0..<c.headDim).contains($0) })
                            if variant == "union" {
                                XCTAssertTrue((width...min(2 * width, c.headDim)).contains(cols.count), "\(variant) \(ratio): \(cols.count)")
                            } else {
                                XCTAssertEqual(cols.count, width, "\(variant) \(ratio)")
                            }
                        }
                    }
                }
            }
        }
        // The variants differ somewhere (otherwise the option would be moot).
        let sum = try InfiniGenReal.method("infinigen:columns=sum"), query = try InfiniGenReal.method("infinigen:columns=query")
        let differ = (2..<c.layers).contains { l in (0..<c.kvHeads).contains { sum.partialColumns(layer: l, kvHead: $0) != query.partialColumns(layer: l, kvHead: $0) } }
        XCTAssertTrue(differ)
    }

    // MARK: selection

    func testHugeAlphaNoBudgetFullPoolReproducesFull() throws {
        let model = try InfiniGenReal.model()
        let tokens = try InfiniGenReal.novelTokens("prideprejudice", count: 128)
        let full = try InfiniGenReal.logProbs(tokens, policy: try FullMethod(model: model, parameters: PolicyRegistry.parse("full").values, context: MethodContext()).makePolicy())
        // Layer 1 is only observed (it feeds layer 2's speculation), so the engine runs the
        // same arithmetic as for `full`: the log-probabilities must be identical.
        let method = try InfiniGenReal.method("infinigen:alpha=100,budget=0,pool=1.0")
        let policy = method.makePolicy() as! InfiniGenPolicy
        let ours = try InfiniGenReal.logProbs(tokens, policy: policy)
        let worstFull = zip(full, ours).map { abs($0 - $1) }.max()!
        print("infinigen: alpha=100 budget=0 over \(ours.count) positions, worst |Δ log p| vs full \(worstFull)")
        XCTAssertLessThan(worstFull, 1e-5)
        XCTAssertEqual(policy.totals.selected, policy.totals.earlier, "every earlier token fetched")
        XCTAssertEqual(policy.lastStep?.position, tokens.count - 1)
        XCTAssertEqual(policy.lastStep?.layers.map(\.layer), Array(2..<model.config.layers))
    }

    /// Checks every selection the engine receives against the policy's own pools and caps.
    final class Checker: KVPolicy {
        let inner: InfiniGenPolicy
        let settings: InfiniGenSettings
        let kvHeads: Int
        var failures: [String] = []
        var selections = 0
        init(_ inner: InfiniGenPolicy, kvHeads: Int) {
            self.inner = inner
            self.settings = inner.plan.settings
            self.kvHeads = kvHeads
        }
        var name: String { inner.name }
        var firstManagedLayer: Int { inner.firstManagedLayer }
        var firstObservedLayer: Int { inner.firstObservedLayer }
        func fork() -> KVPolicy {
            let copy = Checker(inner.fork() as! InfiniGenPolicy, kvHeads: kvHeads)
            copy.failures = failures
            copy.selections = selections
            return copy
        }
        func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
            inner.observeInput(layer: layer, position: position, input: input)
        }
        func observeKeys(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
            inner.observeKeys(layer: layer, position: position, keys: keys, values: values)
        }
        func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
            inner.select(layer: layer, position: t, queries: queries, selection: selection)
            guard layer >= settings.spare else {
                if selection.positions.contains(where: { $0 != nil }) { failures.append("layer \(layer) must read all") }
                return
            }
            selections += 1
            let stats = inner.step(at: t)!.layers.last!
            for g in 0..<kvHeads {
                let pool = inner.pools[layer * kvHeads + g]
                let list = selection.positions[g].map { $0.map(Int.init) } ?? Array(0..<t)
                if list != Array(Set(list)).sorted() { failures.append("not ascending/distinct at \(layer) \(t)") }
                if list.contains(where: { $0 >= t || !pool.isResident($0) }) { failures.append("evicted or future position at \(layer) \(t)") }
                if list.count != stats.selected[g] { failures.append("stats disagree at \(layer) \(t)") }
                // The shared budget rule (TokenBudget): ceil(budget (t+1)), at most t.
                let cap = min(t, Int((settings.budget * Double(t + 1) - 1e-9).rounded(.up)))
                if settings.budget > 0 && list.count > cap { failures.append("budget exceeded at \(layer) \(t)") }
                if settings.maxKV > 0 && list.count > settings.maxKV { failures.append("max-kv exceeded at \(layer) \(t)") }
                if pool.resident.count > pool.capacity { failures.append("pool over capacity at \(layer) \(t)") }
            }
        }
    }

    func testSelectionsStayInsideThePoolAndCaps() throws {
        let model = try InfiniGenReal.model()
        let tokens = try InfiniGenReal.novelTokens("prideprejudice", count: 160)
        for spec in ["infinigen:pool=0.5,eviction=fifo", "infinigen:pool=0.5,eviction=lru,count=per-head",
                     "infinigen:pool=0.7,eviction=counter,max-kv=9,columns=union", "infinigen:skew=false,budget=0,alpha=2"] {
            let policy = try InfiniGenReal.method(spec).makePolicy() as! InfiniGenPolicy
            let checker = Checker(policy, kvHeads: model.config.kvHeads)
            let lp = try InfiniGenReal.logProbs(tokens, policy: checker)
            XCTAssertTrue(checker.failures.isEmpty, "\(spec): \(checker.failures.prefix(5))")
            XCTAssertEqual(checker.selections, (model.config.layers - 2) * tokens.count)
            XCTAssertTrue(lp.allSatisfy { $0.isFinite && $0 <= 0 })
            XCTAssertGreaterThan(policy.totals.speculationFLOPs, 0)
            XCTAssertLessThan(policy.totals.selected, policy.totals.earlier, "\(spec) fetches less than everything")
            if spec.contains("pool=0.5") { XCTAssertLessThanOrEqual(policy.totals.resident, policy.totals.earlier / 2 + policy.totals.earlier / 10) }
        }
    }

    /// A decode run (prompt, then one token per call) and a teacher-forced run with the
    /// same policyStart see the same things in the same order: with batch-invariant
    /// arithmetic every row is computed as a one-token step, so every selection is equal.
    func testDecodeModeMatchesTeacherForcedSelections() throws {
        let model = try InfiniGenReal.model()
        let tokens = try InfiniGenReal.novelTokens("prideprejudice", count: 96)
        let prompt = 64
        let method = try InfiniGenReal.method("infinigen")
        let forced = method.makePolicy() as! InfiniGenPolicy
        let decoded = method.makePolicy() as! InfiniGenPolicy
        try Run.batchInvariant(model) {
            let seqA = model.newSequence(policy: forced, policyStart: prompt, capacity: tokens.count)
            try model.forward([(seqA, tokens)], logits: .none)
            let seqB = model.newSequence(policy: decoded, policyStart: prompt, capacity: tokens.count)
            try model.forward([(seqB, Array(tokens[0..<prompt]))], logits: .none)
            for t in prompt..<tokens.count { try model.forward([(seqB, [tokens[t]])], logits: .none) }
        }

        XCTAssertEqual(forced.allSteps.map(\.position), Array(prompt..<tokens.count))
        XCTAssertEqual(decoded.allSteps.map(\.position), Array(prompt..<tokens.count))
        for (a, b) in zip(forced.allSteps, decoded.allSteps) {
            XCTAssertEqual(a.layers.count, b.layers.count)
            for (l, (x, y)) in zip(a.layers, b.layers).enumerated() {
                XCTAssertEqual(x.selected, y.selected, "position \(a.position) layer step \(l)")
            }
            XCTAssertEqual(a.speculationFLOPs, b.speculationFLOPs)
        }
    }

}
