import XCTest
@testable import Model
import Numerics
@testable import Policies

/// One suite for every registered method, generated from `PolicyRegistry.methods` and each
/// method's declared `examples`: a newly registered method is covered (or fails for
/// declaring nothing) without editing this file. Tiny random model, batch-invariant
/// matrix products, so every equality below is exact (==).
final class PolicySuiteTests: XCTestCase {
    static let tokenCount = 40
    static let prompt = 17

    static func model() -> LlamaModel {
        let m = Tiny.model()
        m.batchInvariant = true
        return m
    }

    /// Calibration text for methods that need it (InfiniGen's skewing).
    static let context = MethodContext(calibrationTokens: { Tiny.tokens(256, seed: 5) })

    /// (method name, spec) for every declared example of every registered method.
    static var examples: [(method: String, spec: String)] {
        PolicyRegistry.methods.flatMap { m in m.examples.specs.map { (m.name, $0) } }
    }

    static func make(_ spec: String, _ model: LlamaModel) throws -> any KVMethod {
        try PolicyRegistry.make(spec, model: model, context: context)
    }

    // MARK: runs

    /// Teacher-forced: one forward over `tokens` from a fresh sequence; all logits.
    static func teacherForced(_ model: LlamaModel, _ policy: KVPolicy, _ tokens: [Int], policyStart: Int = 0) throws -> [Float] {
        let seq = model.newSequence(policy: policy, policyStart: policyStart, capacity: 8)
        return try model.forward([(seq, tokens)], logits: .all)[0].array
    }

    /// Prompt in one call, then one token per call; logits of positions `prompt - 1...`.
    static func decode(_ model: LlamaModel, _ seq: SequenceState, _ tokens: [Int], prompt: Int) throws -> [Float] {
        var out = try model.forward([(seq, Array(tokens[0..<prompt]))], logits: .last)[0].array
        for t in prompt..<tokens.count { out += try model.forward([(seq, [tokens[t]])], logits: .last)[0].array }
        return out
    }

    static func decode(_ model: LlamaModel, _ policy: KVPolicy, _ tokens: [Int], prompt: Int, policyStart: Int) throws -> [Float] {
        try decode(model, model.newSequence(policy: policy, policyStart: policyStart, capacity: 8), tokens, prompt: prompt)
    }

    /// Rows `from...` of flattened logits.
    static func rows(_ logits: [Float], from: Int, vocab: Int) -> ArraySlice<Float> { logits[(from * vocab)...] }

    /// Where two logit arrays first differ, for failure messages.
    static func firstDifference(_ a: some Collection<Float>, _ b: some Collection<Float>) -> String {
        guard a.count == b.count else { return "lengths \(a.count) vs \(b.count)" }
        for (i, (x, y)) in zip(a, b).enumerated() where x != y { return "first difference at value \(i): \(x) vs \(y)" }
        return "equal"
    }

    // MARK: the properties

    func testEveryRegisteredMethodDeclaresExamples() {
        for m in PolicyRegistry.methods {
            let e = m.examples
            XCTAssertTrue(e.declared, "method \(m.name) declares no examples (add `static var examples` to it)")
            guard e.declared else { continue }
            XCTAssertFalse(e.specs.isEmpty, "method \(m.name): examples list no spec")
            if e.sparse.isEmpty || e.unbounded == nil {
                XCTAssertFalse(e.note.isEmpty, "method \(m.name): no budget or no unbounded spec, and no note saying why")
            }
            for spec in e.specs {
                XCTAssertEqual(try PolicyRegistry.parse(spec).type.name, m.name, "method \(m.name): example '\(spec)' names another method")
            }
        }
    }

    func testDecodeEqualsTeacherForced() throws {
        let model = Self.model(), tokens = Tiny.tokens(Self.tokenCount), V = model.config.vocabSize
        for (name, spec) in Self.examples {
            let method = try Self.make(spec, model)
            for policyStart in [0, Self.prompt] {
                let tf = try Self.teacherForced(model, method.makePolicy(), tokens, policyStart: policyStart)
                let prompt = max(policyStart, 1)
                let dec = try Self.decode(model, method.makePolicy(), tokens, prompt: prompt, policyStart: policyStart)
                let expected = Self.rows(tf, from: prompt - 1, vocab: V)
                XCTAssertTrue(expected.elementsEqual(dec),
                              "method \(name), '\(spec)', policyStart \(policyStart): decode differs from teacher-forced (\(Self.firstDifference(expected, dec)))")
            }
        }
    }

    func testTwoTierStoreEqualsDenseStore() throws {
        let model = Self.model(), tokens = Tiny.tokens(Self.tokenCount), c = model.config
        for (name, spec) in Self.examples {
            let method = try Self.make(spec, model)
            // A method with its own storage (packed low-bit rows) has no two-tier form.
            guard method.makePolicy().makeStorage(config: c, capacity: 8) is DenseKVStorage else { continue }
            let dense = try Self.decode(model, method.makePolicy(), tokens, prompt: Self.prompt, policyStart: Self.prompt)
            let store = TwoTierKVStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim, capacity: 8)
            defer { store.stop() }
            let seq = model.newSequence(policy: method.makePolicy(), policyStart: Self.prompt, storage: store)
            let twoTier = try Self.decode(model, seq, tokens, prompt: Self.prompt)
            XCTAssertTrue(dense.elementsEqual(twoTier),
                          "method \(name), '\(spec)': two-tier decode differs from dense (\(Self.firstDifference(dense, twoTier)))")
            XCTAssertGreaterThan(store.measured.prefetchedRows + store.measured.demandRows, 0, "method \(name): two-tier store unused")
        }
    }

    func testSelectionsStayWithinTheDeclaredBudget() throws {
        let model = Self.model(), tokens = Tiny.tokens(Self.tokenCount)
        for m in PolicyRegistry.methods where m.examples.declared {
            let e = m.examples
            var budgets: [(spec: String, limit: (@Sendable (Int) -> Int)?)] = e.sparse.map { ($0.spec, $0.rowLimit) }
            // A method without any budget must read everything; top-p and the like only need valid lists.
            let everything: @Sendable (Int) -> Int = { $0 }
            for spec in e.unbudgeted { budgets.append((spec, e.sparse.isEmpty ? everything : nil)) }
            for (spec, limit) in budgets {
                let method = try Self.make(spec, model)
                for policyStart in [0, Self.prompt] {
                    let tf = Recorder(method.makePolicy(), limit: limit)
                    _ = try Self.teacherForced(model, tf, tokens, policyStart: policyStart)
                    let dec = Recorder(method.makePolicy(), limit: limit)
                    _ = try Self.decode(model, dec, tokens, prompt: max(policyStart, 1), policyStart: policyStart)
                    for r in [tf, dec] {
                        XCTAssertGreaterThan(r.log.selections, 0, "method \(m.name), '\(spec)': never asked to select")
                        XCTAssertEqual(r.log.problems, [], "method \(m.name), '\(spec)', policyStart \(policyStart)")
                        if e.sparse.isEmpty {
                            XCTAssertEqual(r.log.rowsRead, r.log.rowsAvailable, "method \(m.name) has no budget but skipped rows ('\(spec)')")
                        }
                    }
                    if e.sparse.contains(where: { $0.spec == spec }) {
                        XCTAssertLessThan(tf.log.rowsRead, tf.log.rowsAvailable,
                                          "method \(m.name), '\(spec)': the budget never bound (example too loose to test anything)")
                    }
                }
            }
        }
    }

    func testUnboundedBudgetEqualsFull() throws {
        let model = Self.model(), tokens = Tiny.tokens(Self.tokenCount)
        let full = try Self.make("full", model)
        let fullTF = try Self.teacherForced(model, full.makePolicy(), tokens)
        let fullDecode = try Self.decode(model, full.makePolicy(), tokens, prompt: Self.prompt, policyStart: Self.prompt)
        for m in PolicyRegistry.methods {
            guard let spec = m.examples.unbounded else { continue }
            let method = try Self.make(spec, model)
            let tf = try Self.teacherForced(model, method.makePolicy(), tokens)
            XCTAssertTrue(tf.elementsEqual(fullTF), "method \(m.name), unbounded '\(spec)': teacher-forced differs from full (\(Self.firstDifference(tf, fullTF)))")
            let dec = try Self.decode(model, method.makePolicy(), tokens, prompt: Self.prompt, policyStart: Self.prompt)
            XCTAssertTrue(dec.elementsEqual(fullDecode), "method \(m.name), unbounded '\(spec)': decode differs from full (\(Self.firstDifference(dec, fullDecode)))")
        }
    }

    /// The transfer cost a policy declares never undercounts the rows it reads: at least
    /// the storage's bytes for each row (K and V at fp16, or packed), unless resident.
    func testTransferBytesCoverTheRowsRead() throws {
        let model = Self.model(), tokens = Tiny.tokens(Self.tokenCount), c = model.config
        for (name, spec) in Self.examples {
            let method = try Self.make(spec, model)
            let policy = method.makePolicy()
            let storage = policy.makeStorage(config: c, capacity: 8)
            if policy.transfer == .resident {
                XCTAssertEqual(name, FullMethod.name, "method \(name) declares a resident cache: only the full reference may")
                continue
            }
            let rowBytes: (Int) -> Double = { layer in
                if let q = storage as? QuantKVStorage, layer >= q.spare { return Double(2 * q.quantizer.rowBytes) }
                return Double(4 * c.headDim)
            }
            let r = Recorder(policy, limit: nil)
            _ = try Self.teacherForced(model, r, tokens)
            XCTAssertGreaterThan(r.log.reads.count, 0, "method \(name): no reads recorded")
            for read in r.log.reads {
                let bytes = policy.transfer.bytes(rowsRead: read.rows, headDim: c.headDim)
                let floor = Double(read.rows) * rowBytes(read.layer)
                if bytes < floor {
                    XCTFail("method \(name), '\(spec)': layer \(read.layer) read \(read.rows) rows for \(bytes) bytes < \(floor)")
                    break
                }
            }
        }
    }

    /// A sequence forked after a prefix continues exactly as one fed prefix + continuation
    /// from scratch, for each of several continuations, and forking leaves the original
    /// untouched — teacher-forced (fork between forward calls) and in decode.
    func testForkEqualsFromScratch() throws {
        let model = Self.model(), V = model.config.vocabSize
        let prefix = Tiny.tokens(23, seed: 3)
        let continuations = [Tiny.tokens(9, seed: 4), Tiny.tokens(6, seed: 5), Tiny.tokens(12, seed: 6)]
        for (name, spec) in Self.examples {
            let method = try Self.make(spec, model)
            // Teacher-forced, every position policy-managed.
            let base = model.newSequence(policy: method.makePolicy(), capacity: 8)
            try model.forward([(base, prefix)], logits: .none)
            let forks = try continuations.dropLast().map { _ in try base.fork() } + [base]
            let outs = try model.forward(zip(forks, continuations).map { ($0, $1) }, logits: .all)
            for (i, cont) in continuations.enumerated() {
                let scratch = try Self.teacherForced(model, method.makePolicy(), prefix + cont)
                let expected = Self.rows(scratch, from: prefix.count, vocab: V)
                XCTAssertTrue(expected.elementsEqual(outs[i].array),
                              "method \(name), '\(spec)': teacher-forced fork \(i) differs from scratch (\(Self.firstDifference(expected, outs[i].array)))")
            }
            // Decode: prompt, a few steps, fork, then each continuation step by step.
            let steps = 4, start = prefix.count - steps
            let seq = model.newSequence(policy: method.makePolicy(), policyStart: start, capacity: 8)
            _ = try Self.decode(model, seq, prefix, prompt: start)
            let decodeForks = try continuations.dropLast().map { _ in try seq.fork() } + [seq]
            for (i, cont) in continuations.enumerated() {
                var got: [Float] = []
                for token in cont { got += try model.forward([(decodeForks[i], [token])])[0].array }
                let scratch = try Self.decode(model, method.makePolicy(), prefix + cont, prompt: start, policyStart: start)
                let expected = Self.rows(scratch, from: prefix.count - start + 1, vocab: V)
                XCTAssertTrue(expected.elementsEqual(got),
                              "method \(name), '\(spec)': decode fork \(i) differs from scratch (\(Self.firstDifference(expected, got)))")
            }
        }
    }

    func testForkRefusesTwoTierStorageAndProbes() throws {
        let model = Self.model(), c = model.config
        let store = TwoTierKVStorage(layers: c.layers, kvHeads: c.kvHeads, headDim: c.headDim)
        defer { store.stop() }
        let seq = model.newSequence(policy: try Self.make("h2o", model).makePolicy(), storage: store)
        try model.forward([(seq, Tiny.tokens(5))], logits: .none)
        XCTAssertThrowsError(try seq.fork()) { XCTAssertTrue("\($0)".contains("two-tier"), "\($0)") }
        let probe = AttentionProbe(config: c, transfer: .resident)
        let probed = model.newSequence(policy: try Self.make("h2o", model).makePolicy(), probe: probe)
        XCTAssertThrowsError(try probed.fork()) { XCTAssertTrue("\($0)".contains("probe"), "\($0)") }
    }
}

/// Forwards every hook and records each selection: rows read per (layer, KV head) and
/// any list that breaks the rules (not ascending, out of range, over `limit(t)`).
final class Recorder: ForwardingPolicy {
    struct Log {
        var selections = 0
        var rowsRead = 0, rowsAvailable = 0
        var reads: [(layer: Int, rows: Int)] = []
        var problems: [String] = []
    }
    let limit: (@Sendable (Int) -> Int)?
    private(set) var log = Log()

    init(_ inner: KVPolicy, limit: (@Sendable (Int) -> Int)?) {
        self.limit = limit
        super.init(inner)
    }

    override func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        super.select(layer: layer, position: t, queries: queries, selection: selection)
        log.selections += 1
        for h in selection.positions.indices {
            let n = selection.positions[h]?.count ?? t
            log.rowsRead += n
            log.rowsAvailable += t
            log.reads.append((layer, n))
            if let limit, n > limit(t), log.problems.count < 5 {
                log.problems.append("layer \(layer) t \(t) head \(h): \(n) rows > limit \(limit(t))")
            }
            guard let list = selection.positions[h] else { continue }
            for (i, p) in list.enumerated() where p < 0 || Int(p) >= t || (i > 0 && list[i - 1] >= p) {
                if log.problems.count < 5 { log.problems.append("layer \(layer) t \(t) head \(h): bad list \(list)") }
                break
            }
        }
    }

    override func fork() -> KVPolicy {
        let copy = Recorder(inner.fork(), limit: limit)
        copy.log = log
        return copy
    }
}
