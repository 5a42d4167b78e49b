import Evaluation
import Foundation
@testable import Model
import Numerics
import Policies
import Tokenizer
import XCTest

/// A small random Llama for the artifact-protocol tests (its own builder until the shared
/// test-support target lands): 4 layers, 4 query heads on 2 KV heads, head_dim 64.
private enum ArtifactTiny {
    struct RNG: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func normal() -> Float {
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self), u2 = Double.random(in: 0..<1, using: &self)
            return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
    }

    static let config = LlamaConfig(vocabSize: 48, hiddenSize: 64, layers: 4, heads: 4, kvHeads: 2, headDim: 64,
                                    ffnSize: 96, contextLength: 512, tiedOutput: true)

    static func model(seed: UInt64 = 7) -> LlamaModel {
        var rng = RNG(state: seed)
        let c = config
        func matrix(_ rows: Int, _ cols: Int, gain: Float = 1) -> WeightMatrix {
            let values = (0..<(rows * cols)).map { _ in rng.normal() * gain / Float(cols).squareRoot() }
            return WeightMatrix(dense: FloatBuffer(values), rows: rows, cols: cols)
        }
        func norm(_ n: Int) -> FloatBuffer { FloatBuffer((0..<n).map { _ in 1 + 0.1 * rng.normal() }) }
        let layers = (0..<c.layers).map { _ in
            LayerWeights(attnNorm: norm(c.hiddenSize), wq: matrix(c.qDim, c.hiddenSize, gain: 3),
                         wk: matrix(c.kvDim, c.hiddenSize, gain: 3), wv: matrix(c.kvDim, c.hiddenSize),
                         wo: matrix(c.hiddenSize, c.qDim), ffnNorm: norm(c.hiddenSize),
                         wGate: matrix(c.ffnSize, c.hiddenSize), wUp: matrix(c.ffnSize, c.hiddenSize),
                         wDown: matrix(c.hiddenSize, c.ffnSize))
        }
        let embedding = matrix(c.vocabSize, c.hiddenSize, gain: 8)
        return LlamaModel(config: c, weights: LlamaWeights(layers: layers, tokenEmbedding: embedding,
                                                           outputNorm: norm(c.hiddenSize), output: embedding))
    }

    static func tokens(_ n: Int, seed: UInt64 = 11) -> [Int] {
        var rng = RNG(state: seed)
        return (0..<n).map { _ in Int.random(in: 0..<config.vocabSize, using: &rng) }
    }

    static let context = ArtifactContext(calibrationTokens: { tokens(128, seed: 3) }, promptTokens: { tokens(40, seed: 5) })

    /// A row-major L × L matrix from f(i, j).
    static func matrix(_ L: Int, _ f: (Int, Int) -> Float) -> [Float] {
        (0..<(L * L)).map { f($0 / L, $0 % L) }
    }
}

final class ArtifactMaskTests: XCTestCase {
    func testLeadingRowsFullAndLaterRowsTakeTheirCappedTopK() {
        let L = 20
        let m = ArtifactTiny.matrix(L) { i, j in Float((i * 7 + j * 13) % 17) }
        let counts = (0..<L).map { $0 % 9 }
        let mask = m.withUnsafeBufferPointer {
            MaskBuilder.infinigen(approx: $0.baseAddress!, length: L, counts: counts, fetchMax: 5)
        }
        for i in 0..<5 { XCTAssertTrue(mask.full[i]); XCTAssertEqual(mask.positions(row: i), Array(0...i)) }
        for i in 5..<L {
            XCTAssertFalse(mask.full[i])
            let k = min(counts[i], 5)
            let picked = mask.positions(row: i)
            XCTAssertEqual(picked.count, k, "row \(i)")
            // The k best of 0...i, ties to the lower index.
            let expected = (0...i).sorted { m[i * L + $0] != m[i * L + $1] ? m[i * L + $0] > m[i * L + $1] : $0 < $1 }.prefix(k).sorted()
            XCTAssertEqual(picked, Array(expected), "row \(i)")
        }
        XCTAssertEqual(mask.cappedRows, (5..<L).filter { counts[$0] >= 5 }.count)
        XCTAssertEqual(mask.emptyRows, (5..<L).filter { counts[$0] == 0 }.count)
        // Off: the leading rows take their top-k too.
        let off = m.withUnsafeBufferPointer {
            MaskBuilder.infinigen(approx: $0.baseAddress!, length: L, counts: counts, fetchMax: 5, fullLeadingRows: false)
        }
        XCTAssertEqual(off.positions(row: 3).count, min(counts[3], 4))
        XCTAssertFalse(off.full[0])
    }

    func testHeadZeroMaxQuirk() {
        // Head 0 scores 10 on the diagonal, head 1 at most 1: against head 0's max - 2, head 1
        // counts nothing; against its own max it counts its near-max positions.
        let L = 6
        let h0 = ArtifactTiny.matrix(L) { i, j in i == j ? 10 : 0 }
        let h1 = ArtifactTiny.matrix(L) { _, j in j % 2 == 0 ? 1 : 0.5 }
        h0.withUnsafeBufferPointer { a in
            h1.withUnsafeBufferPointer { b in
                let heads = [a.baseAddress!, b.baseAddress!]
                let quirk = MaskBuilder.fetchCounts(approx: heads, length: L, alpha: 2, headZeroMax: true, groupSize: 1)
                let own = MaskBuilder.fetchCounts(approx: heads, length: L, alpha: 2, headZeroMax: false, groupSize: 1)
                XCTAssertEqual(quirk[0], [1, 1, 1, 1, 1, 1])
                XCTAssertEqual(quirk[1], [0, 0, 0, 0, 0, 0])
                XCTAssertEqual(own[1], (0..<L).map { $0 + 1 })   // every position within 2 of the max
                // Averaged over both heads and truncated: (1 + 0) / 2 -> 0, (1 + i + 1) / 2.
                let mean = MaskBuilder.fetchCounts(approx: heads, length: L, alpha: 2, headZeroMax: true, groupSize: 2)
                XCTAssertEqual(mean[0], [0, 0, 0, 0, 0, 0])
                XCTAssertEqual(mean[1], mean[0])
                let meanOwn = MaskBuilder.fetchCounts(approx: heads, length: L, alpha: 2, headZeroMax: false, groupSize: 2)
                XCTAssertEqual(meanOwn[0], (0..<L).map { (1 + $0 + 1) / 2 })
            }
        }
    }

    func testH2OKeepsFixedHeavyAndRecentSets() {
        let L = 40, heavy = 5, recent = 4
        var rng = ArtifactTiny.RNG(state: 9)
        // Column 0 is an attention sink: it must stay a heavy hitter on every row.
        let s = ArtifactTiny.matrix(L) { _, j in j == 0 ? 6 : rng.normal() }
        let mask = s.withUnsafeBufferPointer { MaskBuilder.h2o(scores: $0.baseAddress!, length: L, heavy: heavy, recent: recent) }
        for i in 0..<heavy { XCTAssertTrue(mask.full[i]) }
        for i in heavy..<L {
            let picked = Set(mask.positions(row: i))
            let band = Set(max(0, i - recent)...i)
            XCTAssertTrue(band.isSubset(of: picked), "row \(i)")
            XCTAssertTrue(picked.contains(0), "row \(i): the sink")
            XCTAssertLessThanOrEqual(picked.subtracting(band).count, heavy - 1, "row \(i)")
        }
        // Past the warm-up the heavy set is full: heavy - 1 outside the band (scores are all positive).
        XCTAssertEqual(Set(mask.positions(row: L - 1)).subtracting(Set((L - 1 - recent)...(L - 1))).count, heavy - 1)
    }

    func testPoolEvictionFIFOAndCounter() {
        let L = 16, capacity = 8
        // The oldest positions score best, so without eviction every row would pick 0 and 1.
        let s = ArtifactTiny.matrix(L) { _, j in Float(-j) }
        let counts = [Int](repeating: 2, count: L)
        let fifo = s.withUnsafeBufferPointer {
            MaskBuilder.infinigen(approx: $0.baseAddress!, length: L, counts: counts, fetchMax: 2,
                                  pool: .init(capacity: capacity, eviction: .fifo))
        }
        // Rows 8..14 each evict i - 8 after choosing; row i then avoids 0..<(i - 8).
        XCTAssertEqual(fifo.evictions, L - 1 - capacity)
        XCTAssertEqual(fifo.positions(row: 8), [0, 1])
        XCTAssertEqual(fifo.positions(row: 9), [1, 2])
        XCTAssertEqual(fifo.positions(row: 15), [7, 8])
        let counter = s.withUnsafeBufferPointer {
            MaskBuilder.infinigen(approx: $0.baseAddress!, length: L, counts: counts, fetchMax: 2,
                                  pool: .init(capacity: capacity, eviction: .counter))
        }
        // After row 8, fetch counts over the older half (positions < 4) are 9, 8, 0, 0: position 2
        // goes; it stays the argmin on every later row (evicted positions included), so
        // Counter evicts one token in all, and 0 and 1 are read to the end.
        XCTAssertEqual(counter.evictions, 1)
        XCTAssertEqual(counter.positions(row: 15), [0, 1])
        let unlimited = s.withUnsafeBufferPointer {
            MaskBuilder.infinigen(approx: $0.baseAddress!, length: L, counts: counts, fetchMax: 2)
        }
        XCTAssertEqual(unlimited.positions(row: 15), [0, 1])
        XCTAssertEqual(unlimited.evictions, 0)
    }

    func testOracleTopK() {
        let L = 12
        let s = ArtifactTiny.matrix(L) { i, j in Float((i + 3 * j) % 5) }
        let mask = s.withUnsafeBufferPointer { MaskBuilder.oracle(scores: $0.baseAddress!, length: L, k: 3) }
        for i in 0..<L {
            XCTAssertEqual(mask.positions(row: i).count, min(3, i + 1))
            if i >= 3 {
                let best = (0...i).map { s[i * L + $0] }.sorted(by: >)[2]
                XCTAssertTrue(mask.positions(row: i).allSatisfy { s[i * L + $0] >= best })
            }
        }
    }

    func testFakeQuantizer() {
        var x: [Float] = (0..<64).map { Float($0) / 7 - 3 }
        let original = x
        x.withUnsafeMutableBufferPointer { FakeQuantizer.apply($0.baseAddress!, rows: 1, width: 64, stride: 64, bits: 1, group: 64) }
        XCTAssertTrue(x.allSatisfy { $0 == original.min()! || $0 == original.max()! })
        var y = original
        y.withUnsafeMutableBufferPointer { FakeQuantizer.apply($0.baseAddress!, rows: 1, width: 64, stride: 64, bits: 8, group: 64) }
        XCTAssertLessThan(zip(y, original).map { abs($0 - $1) }.max()!, 9 / 255 / 2 + 1e-5)
    }

    func testRetainRatio() {
        XCTAssertEqual(MaskStatistics.retainRatio(density: 1), 1)
        XCTAssertEqual(MaskStatistics.retainRatio(density: 0.36), 0.2, accuracy: 1e-12)
    }
}

final class ArtifactEvaluatorTests: XCTestCase {
    private func allLogits(_ pass: ArtifactPass) -> [Float] { pass.logits(rows: 0..<pass.tokens.count).array }

    func testArtifactFullMatchesEngineFull() throws {
        let model = ArtifactTiny.model(), tokens = ArtifactTiny.tokens(48)
        let pass = try ArtifactEvaluator(model: model, spec: "full", context: ArtifactTiny.context).forward(tokens)
        let engine = try model.forward([(model.newSequence(capacity: 8), tokens)], logits: .all)[0].array
        let ours = allLogits(pass)
        XCTAssertEqual(ours.count, engine.count)
        let worst = zip(ours, engine).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        XCTAssertLessThan(worst, 1e-4)
        XCTAssertEqual(pass.statistics.density, 1)
    }

    func testWholeBudgetEqualsFull() throws {
        let model = ArtifactTiny.model(), tokens = ArtifactTiny.tokens(40)
        let full = allLogits(try ArtifactEvaluator(model: model, spec: "full", context: ArtifactTiny.context).forward(tokens))
        for spec in ["infinigen:budget=1", "h2o:heavy=1,recent=0", "oracle:budget=1"] {
            let ev = try ArtifactEvaluator(model: model, spec: spec, context: ArtifactTiny.context)
            let pass = try ev.forward(tokens)
            XCTAssertEqual(allLogits(pass), full, spec)
            XCTAssertEqual(pass.statistics.density, 1, spec)
        }
    }

    func testSmallBudgetMasksAndChangesLogits() throws {
        let model = ArtifactTiny.model(), tokens = ArtifactTiny.tokens(60)
        let full = try ArtifactEvaluator(model: model, spec: "full", context: ArtifactTiny.context).forward(tokens)
        let ig = try ArtifactEvaluator(model: model, spec: "infinigen:budget=0.2,alpha=100", context: ArtifactTiny.context)
        XCTAssertTrue(ig.canonical.contains("columns=union"), ig.canonical)
        let pass = try ig.forward(tokens)
        let s = pass.statistics
        XCTAssertEqual(s.fetchMax, 12)
        XCTAssertEqual(s.managedLayers.map(\.layer), [2, 3])
        // alpha 100: every row's count exceeds the cap, so rows >= 12 keep exactly 12:
        // density = (sum_{i<12} (i+1) + 48·12) / (60·61/2).
        let expected = Double((1...12).reduce(0, +) + 48 * 12) / 1830
        for l in s.managedLayers { XCTAssertEqual(l.density, expected, accuracy: 1e-12) }
        XCTAssertEqual(s.retainRatio, 1 - (1 - expected).squareRoot(), accuracy: 1e-12)
        XCTAssertNotEqual(allLogits(pass), allLogits(full))
        // Same config, same numbers.
        XCTAssertEqual(allLogits(try ig.forward(tokens)), allLogits(pass))
        let h2o = try ArtifactEvaluator(model: model, spec: "h2o:heavy=0.1,recent=0.1", context: ArtifactTiny.context).forward(tokens)
        XCTAssertLessThan(h2o.statistics.density, 0.5)
        let (kl, _) = h2o.compare(with: full)
        XCTAssertGreaterThan(kl.reduce(0, +), 0)
    }

    func testConventionSwitchesChangeTheMask() throws {
        let model = ArtifactTiny.model(), tokens = ArtifactTiny.tokens(60)
        let spec = "infinigen:budget=0.3,alpha=3"
        let base = try ArtifactEvaluator(model: model, spec: spec, context: ArtifactTiny.context).forward(tokens).statistics
        var off = ArtifactConventions.artifact
        off.fullLeadingRows = false
        let noLead = try ArtifactEvaluator(model: model, spec: spec, conventions: off, context: ArtifactTiny.context).forward(tokens).statistics
        XCTAssertLessThan(noLead.density, base.density)
        var perGroup = ArtifactConventions.artifact
        perGroup.skewing = .perGroup
        XCTAssertNoThrow(try ArtifactEvaluator(model: model, spec: spec, conventions: perGroup, context: ArtifactTiny.context).forward(tokens))
    }

    func testPerplexityWindowsAndLogLikelihood() throws {
        let model = ArtifactTiny.model(), tokens = ArtifactTiny.tokens(70)
        let ev = try ArtifactEvaluator(model: model, spec: "quant:bits=4", context: ArtifactTiny.context)
        let p = try ev.perplexity(tokens: tokens, window: 32)
        XCTAssertEqual(p.statistics.count, 2)               // 70 / 32: the partial window is dropped
        XCTAssertEqual(p.nll.count, 2 * 31)
        XCTAssertEqual(Array(p.windowPosition.prefix(3)), [0, 1, 2])
        let ll = try ev.logLikelihood(context: Array(tokens[0..<20]), continuation: Array(tokens[20..<25]))
        let nll = try ev.forward(Array(tokens[0..<25])).nll()
        XCTAssertEqual(ll.logLikelihood, -nll[19..<24].reduce(0, +), accuracy: 1e-6)
    }

    /// Anything keyed on a masked run uses the spec as the masks run it: InfiniGen's default
    /// columns are the conventions' union there, not the registry's sum.
    func testCanonicalSpecFollowsTheConventionsColumns() throws {
        let plain = try ArtifactEvaluator.canonical("infinigen:budget=0.2")
        XCTAssertEqual(plain, try ArtifactEvaluator.canonical("infinigen:budget=0.2,columns=union"))
        XCTAssertNotEqual(plain, try ArtifactEvaluator.canonical("infinigen:budget=0.2,columns=sum"))
        XCTAssertEqual(try ArtifactEvaluator.canonical("h2o:heavy=0.1"), try PolicyRegistry.canonical("h2o:heavy=0.1"))
        let model = ArtifactTiny.model()
        XCTAssertEqual(try ArtifactEvaluator(model: model, spec: "infinigen:budget=0.2", context: ArtifactTiny.context).canonical, plain)
    }

    func testUnsupportedMethodNamesTheSupportedOnes() {
        let model = ArtifactTiny.model()
        XCTAssertThrowsError(try ArtifactEvaluator(model: model, spec: "quest:budget=0.2", context: ArtifactTiny.context)) {
            XCTAssertEqual("\($0)", "the artifact protocol does not simulate 'quest' (supported: full, infinigen, h2o, quant, oracle)")
        }
        XCTAssertThrowsError(try ArtifactEvaluator(model: model, spec: "infinigen:budget=0", context: ArtifactTiny.context))
    }

    func testRealModelWholeBudgetEqualsFull() throws {
        try RealAssets.releaseOnly()
        let (model, tokenizer) = try RealAssets.model()
        let text = try Corpus.tokens("wiki", tokenizer: tokenizer, count: 160)
        let context = ArtifactContext(methodContext: MethodContext(calibrationTokens: {
            try Corpus.tokens(Corpus.calibrationText, tokenizer: tokenizer, count: 256)
        }), tokenizer: tokenizer)
        let full = try ArtifactEvaluator(model: model, spec: "full", context: context).forward(text)
        let ig = try ArtifactEvaluator(model: model, spec: "infinigen:budget=1", context: context).forward(text)
        XCTAssertEqual(ig.nll(), full.nll())
        XCTAssertEqual(ig.statistics.density, 1)
        // And the artifact's full pass agrees with the engine's perplexity.
        let engine = try Perplexity.evaluate(model: model, tokens: text, context: text.count, stride: text.count)
        XCTAssertEqual(exp(full.nll().reduce(0, +) / Double(text.count - 1)), engine.perplexity, accuracy: 1e-3 * engine.perplexity)
    }
}

/// Few-shot scoring under the artifact protocol, and repeat runs of the real model's
/// masked passes giving the same numbers bit for bit.
final class ArtifactFewShotTests: XCTestCase {
    private func task() throws -> FewShotTask {
        let shots = "Question: Is water wet? Answer: yes\nQuestion: Is fire cold? Answer: no\n"
        let items = try [
            FewShotItem(id: 0, contexts: [shots + "Question: Is ice cold? Answer:", shots + "Question: Is ice cold? Answer:"],
                        continuations: [" yes", " no"], gold: 0),
            FewShotItem(id: 1, contexts: [shots + "Question: Is the sun dark? Answer:", shots + "Question: Is the sun dark? Answer:"],
                        continuations: [" yes", " no"], gold: 1),
        ]
        return FewShotTask(name: "yesno", shots: 2, items: items, notes: "test")
    }

    private func realContext(_ tokenizer: BPETokenizer) -> ArtifactContext {
        ArtifactContext(methodContext: MethodContext(calibrationTokens: {
            try Corpus.tokens(Corpus.calibrationText, tokenizer: tokenizer, count: 256)
        }), tokenizer: tokenizer)
    }

    func testEveryChoiceIsOneMaskedPassAndFullAgreesWithTheEngine() throws {
        try RealAssets.releaseOnly()
        let (model, tokenizer) = try RealAssets.model()
        let task = try task(), context = realContext(tokenizer)
        let ig = try ArtifactEvaluator(model: model, spec: "infinigen:budget=0.2,alpha=5", context: context)
        let scored = try ArtifactFewShot.evaluate(evaluator: ig, tokenizer: tokenizer, task: task)
        XCTAssertEqual(scored.passes.count, 4)
        XCTAssertEqual(scored.result.forwardCalls, 4)
        for (record, item) in zip(scored.result.records, task.evaluatedItems) {
            for c in 0..<2 {
                let direct = try ig.logLikelihood(context: tokenizer.encode(item.contexts[c]),
                                                  continuation: tokenizer.encode(item.continuations[c]))
                XCTAssertEqual(record.loglikelihoods[c], direct.logLikelihood)
            }
        }
        XCTAssertEqual(scored.density, scored.passes.map(\.density).reduce(0, +) / 4, accuracy: 1e-12)
        XCTAssertLessThan(scored.density, 1)
        // The full cache under masks scores what the engine scores.
        let full = try ArtifactFewShot.evaluate(evaluator: ArtifactEvaluator(model: model, spec: "full", context: context),
                                                tokenizer: tokenizer, task: task)
        let engine = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task)
        for (a, b) in zip(full.result.records, engine.records) {
            for (x, y) in zip(a.loglikelihoods, b.loglikelihoods) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        }
        XCTAssertEqual(full.density, 1)
    }

    /// The policy-quality row `infinigen-ratio1` once came out different between two runs
    /// of the artifact protocol on a loaded machine: every masked pass must be a function
    /// of its inputs alone, whatever the other threads are doing.
    func testRepeatRunsAreBitForBitEqualUnderLoad() throws {
        try RealAssets.releaseOnly()
        let (model, tokenizer) = try RealAssets.model()
        let text = try Corpus.tokens("wiki", tokenizer: tokenizer, count: 384)
        let context = realContext(tokenizer)
        for spec in ["infinigen:budget=0.2,ratio=1", "infinigen:budget=0.2", "h2o:heavy=0.1,recent=0.1", "oracle:budget=0.2"] {
            let first = try ArtifactEvaluator(model: model, spec: spec, context: context).forward(text)
            // A busy thread beside the second run changes how the parallel loops are scheduled.
            let stop = ManagedAtomicFlag()
            let load = Thread { var x = 1.0; while !stop.isSet { x = x * 1.000001 + 1e-9 }; _ = x }
            load.start()
            let second = try ArtifactEvaluator(model: model, spec: spec, context: context).forward(text)
            stop.set()
            XCTAssertEqual(second.nll(), first.nll(), spec)
            XCTAssertEqual(second.statistics, first.statistics, spec)
        }
    }
}

/// A flag one thread sets and another polls.
private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}
