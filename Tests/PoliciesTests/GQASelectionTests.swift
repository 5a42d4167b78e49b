import XCTest
@testable import Model
import Numerics
@testable import Policies
import Trace

/// Watches a policy's per-query-head selections through the engine: each query head's
/// attention weights must be the softmax of its own logits over exactly its own rows
/// (the query's own included) and 0 elsewhere, and the rows handed over must be the union.
/// `explicit` turns "read everything" into one explicit per-head list per query head,
/// forcing the engine's per-head path.
final class PerHeadCheckingPolicy: ForwardingPolicy {
    let config: LlamaConfig
    let explicit: Bool
    private var keys: [[Float]]                          // per (layer, KV head)
    private var chosen: [Int: (queries: [Float], selection: [[[Int32]]?], union: [[Int32]?])] = [:]
    private(set) var problems: [String] = []
    private(set) var perHeadRows = 0
    /// Union sizes chosen, by (layer, position, KV head), for the probe comparison.
    private(set) var unions: [String: Int] = [:]
    private(set) var headMeans: [String: Double] = [:]

    init(_ inner: KVPolicy, config: LlamaConfig, explicit: Bool = false) {
        self.config = config
        self.explicit = explicit
        keys = Array(repeating: [], count: config.layers * config.kvHeads)
        super.init(inner)
    }

    override var wantsAttentionWeights: Bool { true }

    override func observeKeys(layer: Int, position: Int, keys k: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        super.observeKeys(layer: layer, position: position, keys: k, values: values)
        let d = config.headDim
        for h in 0..<config.kvHeads {
            keys[layer * config.kvHeads + h] += Array(UnsafeBufferPointer(start: k + h * d, count: d))
        }
    }

    override func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        super.select(layer: layer, position: t, queries: queries, selection: selection)
        let G = config.groupSize
        for h in 0..<config.kvHeads {
            if explicit && selection.perHead[h] == nil {
                let all = selection.positions[h] ?? (0..<t).map { Int32($0) }
                selection.setPerHead(h, Array(repeating: all, count: G))
            }
            if let lists = selection.perHead[h] {
                if selection.positions[h] != Selection.union(lists) { problems.append("l\(layer) t\(t) h\(h): positions is not the union") }
                perHeadRows += 1
                let key = "\(layer)/\(t)/\(h)"
                unions[key] = selection.positions[h]!.count
                headMeans[key] = Double(lists.reduce(0) { $0 + $1.count }) / Double(G)
            }
        }
        chosen[layer * 1_000_000 + t] = (Array(UnsafeBufferPointer(start: queries, count: config.qDim)),
                                         selection.perHead, selection.positions)
    }

    override func observeAttention(layer: Int, position t: Int, kvHead h: Int, positions: UnsafeBufferPointer<Int32>,
                                   weights: UnsafePointer<Float>, stride: Int) {
        super.observeAttention(layer: layer, position: t, kvHead: h, positions: positions, weights: weights, stride: stride)
        guard let c = chosen[layer * 1_000_000 + t], let lists = c.selection[h] else { return }
        let d = config.headDim, G = config.groupSize
        if Array(positions) != c.union[h]! + [Int32(t)] { problems.append("l\(layer) t\(t) h\(h): engine read \(Array(positions))") }
        let kb = keys[layer * config.kvHeads + h]
        for j in 0..<G {
            let own = lists[j] + [Int32(t)]
            // The expected weights, in Double.
            let q = Array(c.queries[((h * G + j) * d)..<((h * G + j + 1) * d)])
            let logits = own.map { p in (0..<d).reduce(0.0) { $0 + Double(q[$1]) * Double(kb[Int(p) * d + $1]) } / Double(d).squareRoot() }
            let m = logits.max()!
            let e = logits.map { exp($0 - m) }, z = e.reduce(0, +)
            for (i, p) in positions.enumerated() {
                let w = Double(weights[j * stride + i])
                if let k = own.firstIndex(of: p) {
                    if abs(w - e[k] / z) > 1e-4 { problems.append("l\(layer) t\(t) head \(h * G + j) row \(p): \(w) vs \(e[k] / z)") }
                } else if w != 0 {
                    problems.append("l\(layer) t\(t) head \(h * G + j) read row \(p) it did not select")
                }
            }
        }
    }
}

final class GQASelectionTests: XCTestCase {
    private let model = Tiny.model()
    private let tokens = Tiny.tokens(40)
    private let selecting = ["oracle:budget=0.2", "h2o:heavy=0.1,recent=0.1", "quest:page=4,budget=0.25",
                             "infinigen:budget=0.2,alpha=3"]

    private func policy(_ spec: String) throws -> KVPolicy {
        try PolicyRegistry.make(spec, model: model, context: MethodContext(calibrationTokens: { Tiny.tokens(64, seed: 5) }))
            .makePolicy()
    }

    /// Each query head attends over exactly its own rows, in teacher-forced and decode
    /// runs and through the two-tier (prefetching) storage; the KV head reads the union.
    func testPerHeadSelectionReadsExactlyEachHeadsRows() throws {
        for spec in selecting {
            let s = "\(spec),gqa=per-head"
            let forced = PerHeadCheckingPolicy(try policy(s), config: model.config)
            _ = try Run.teacherForced(model, forced, tokens)
            XCTAssertEqual(forced.problems, [], s)
            XCTAssertGreaterThan(forced.perHeadRows, 20, "\(s) selected per head")
            XCTAssertTrue(forced.unions.contains { forced.headMeans[$0.key]! < Double($0.value) },
                          "\(s): somewhere the heads of a group chose differently")

            let decoded = PerHeadCheckingPolicy(try policy(s), config: model.config)
            _ = try Run.decode(model, decoded, tokens, prompt: 10)
            XCTAssertEqual(decoded.problems, [], "\(s) decode")

            // Two-tier storage: the prefetch moves the union; the engine's result is the
            // dense one's, bit for bit.
            let dense = try Run.decode(model, try policy(s), tokens, prompt: 10)
            let inner = try policy(s)
            let storage = TwoTierKVStorage(layers: model.config.layers, kvHeads: model.config.kvHeads,
                                           headDim: model.config.headDim, capacity: 8)
            defer { storage.stop() }
            let seq = model.newSequence(policy: inner, policyStart: 10, capacity: 8, storage: storage)
            var out = try model.forward([(seq, Array(tokens[0..<10]))], logits: .last)[0].array
            for t in 10..<tokens.count { out += try model.forward([(seq, [tokens[t]])], logits: .last)[0].array }
            XCTAssertTrue(out == dense, "\(s): two-tier storage changes the result")
        }
    }

    /// The explicit per-head path with every head reading all rows is full attention.
    func testExplicitPerHeadListsOfEverythingAreFull() throws {
        let full = try Run.teacherForced(model, Run.policy("full", model), tokens)
        let p = PerHeadCheckingPolicy(try Run.policy("full", model), config: model.config, explicit: true)
        let logits = try Run.teacherForced(model, p, tokens)
        XCTAssertEqual(p.problems, [])
        XCTAssertGreaterThan(p.perHeadRows, 0)
        XCTAssertLessThan(Run.maxDifference(logits[...], full[...]), 1e-5)
    }

    /// gqa=per-head with a budget covering the whole cache reproduces full attention.
    func testPerHeadWithWholeBudgetIsFull() throws {
        let full = try Run.teacherForced(model, Run.policy("full", model), tokens)
        for spec in ["oracle:budget=1", "h2o:heavy=0.5,recent=0.5", "quest:budget=1,page=4", "infinigen:budget=1,alpha=100"] {
            for explicit in [false, true] {
                let p = PerHeadCheckingPolicy(try policy("\(spec),gqa=per-head"), config: model.config, explicit: explicit)
                let logits = try Run.teacherForced(model, p, tokens)
                XCTAssertEqual(p.problems, [], spec)
                XCTAssertLessThan(Run.maxDifference(logits[...], full[...]), 1e-5, "\(spec) explicit \(explicit)")
            }
        }
    }

    /// The probe counts rows and bytes on the union per KV head, and reports what each
    /// query head read beside it.
    func testProbeChargesTheUnion() throws {
        let c = model.config
        let inner = PerHeadCheckingPolicy(try policy("oracle:budget=0.2,gqa=per-head"), config: c)
        let recorder = TraceRecorder()
        let probe = AttentionProbe(config: c, transfer: inner.transfer, recorder: recorder, capacity: tokens.count)
        let seq = model.newSequence(policy: inner, policyStart: 0, capacity: tokens.count, probe: probe)
        _ = try model.forward([(seq, tokens)], logits: .none)
        var checked = 0, smaller = 0
        for r in recorder.attentionRecords where r.managed {
            guard let union = inner.unions["\(r.layer)/\(r.position)/\(r.kvHead)"] else { continue }
            XCTAssertEqual(r.rowsRead, union)
            XCTAssertEqual(r.linkBytes, Double(union * 4 * c.headDim))
            XCTAssertEqual(r.queryHeadRowsRead, inner.headMeans["\(r.layer)/\(r.position)/\(r.kvHead)"]!, accuracy: 1e-12)
            XCTAssertEqual(r.recall, 1, accuracy: 1e-9, "each head's own top-k is its exact top-k")
            if r.queryHeadRowsRead < Double(r.rowsRead) { smaller += 1 }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
        XCTAssertGreaterThan(smaller, 0)
        let s = recorder.summary()
        XCTAssertLessThan(s.queryHeadReadFraction, s.readFraction)
    }

    /// max and sum rank differently when one head is sure and the others mildly disagree.
    func testMaxAndSumDifferOnACraftedCase() {
        // Two query heads, t = 3: head 0 strongly wants position 0, head 1 mildly 1 and 2.
        let scores: [Float] = [10, 0, 0,
                               -10, 3, 3]
        scores.withUnsafeBufferPointer { p in
            let s = p.baseAddress!
            XCTAssertEqual(InfiniGenPolicy.topPositions(s, groupSize: 2, t: 3, resident: nil, k: 1, gqa: .max), [0])
            XCTAssertEqual(InfiniGenPolicy.topPositions(s, groupSize: 2, t: 3, resident: nil, k: 1, gqa: .sum), [1])
        }
        // The oracle on real logits: query heads (1, 0) and (0, 1); keys as below.
        let config = LlamaConfig(vocabSize: 8, hiddenSize: 4, layers: 1, heads: 2, kvHeads: 1, headDim: 2, ffnSize: 4)
        let keys: [[Float]] = [[10, -10], [0, 3], [1, 1], [0, 0]]
        func pick(_ gqa: GQASelection) -> (positions: [Int32]?, perHead: [[Int32]]?) {
            let policy = OraclePolicy(config: config, budget: TokenBudget(fraction: 0, tokens: 1), topP: 0, firstManagedLayer: 0, gqa: gqa)
            for (t, k) in keys.enumerated() { policy.observeKeys(layer: 0, position: t, keys: k, values: k) }
            let selection = Selection(kvHeads: 1)
            [Float(1), 0, 0, 1].withUnsafeBufferPointer { policy.select(layer: 0, position: 3, queries: $0.baseAddress!, selection: selection) }
            return (selection.positions[0], selection.perHead[0])
        }
        // Logits per head: head 0 (10, 0, 1), head 1 (-10, 3, 1). Max: 10, 3, 1 -> 0. Sum: 0, 3, 2 -> 1.
        XCTAssertEqual(pick(.max).positions, [0])
        XCTAssertEqual(pick(.sum).positions, [1])
        XCTAssertEqual(pick(.perHead).perHead!, [[0], [1]])
        XCTAssertEqual(pick(.perHead).positions, [0, 1], "the union")
        // Quest with one-token pages bounds each key exactly: the same choices.
        func quest(_ gqa: GQASelection) -> [Int32]? {
            let policy = QuestPolicy(config: config, page: 1, budget: TokenBudget(fraction: 0.25), firstManagedLayer: 0, gqa: gqa)
            for (t, k) in keys.enumerated() { policy.observeKeys(layer: 0, position: t, keys: k, values: k) }
            let selection = Selection(kvHeads: 1)
            [Float(1), 0, 0, 1].withUnsafeBufferPointer { policy.select(layer: 0, position: 3, queries: $0.baseAddress!, selection: selection) }
            return selection.positions[0]
        }
        XCTAssertEqual(quest(.max), [0])
        XCTAssertEqual(quest(.sum), [1])
        XCTAssertEqual(quest(.perHead), [0, 1])
    }

    /// H2O per head: each query head keeps its own heavy hitters from its own scores.
    func testH2OPerHeadKeepsEachHeadsHeavyHitters() {
        let config = LlamaConfig(vocabSize: 8, hiddenSize: 4, layers: 1, heads: 2, kvHeads: 1, headDim: 2, ffnSize: 4)
        let zeros = [Float](repeating: 0, count: 4)
        func run(_ gqa: GQASelection) -> Selection {
            let p = H2OPolicy(config: config, budget: H2OBudget(heavy: 0, recent: 0, heavyTokens: 1, recentTokens: 1),
                              firstManagedLayer: 0, gqa: gqa)
            let selection = Selection(kvHeads: 1)
            for t in 0..<4 {
                p.observeKeys(layer: 0, position: t, keys: zeros, values: zeros)
                selection.readAll()
                zeros.withUnsafeBufferPointer { p.select(layer: 0, position: t, queries: $0.baseAddress!, selection: selection) }
                // Head 0 puts its weight on position 0, head 1 on position 1 (once it exists).
                let read = (selection.positions[0] ?? (0..<t).map { Int32($0) }) + [Int32(t)]
                var w = [Float](repeating: 0, count: 2 * read.count)
                if t == 3 { return selection }
                w[0] = 1                                             // head 0: row of position read[0]
                if let i = read.firstIndex(of: 1) { w[read.count + i] = 1 } else { w[read.count + read.count - 1] = 1 }
                read.withUnsafeBufferPointer { p.observeAttention(layer: 0, position: t, kvHead: 0, positions: $0, weights: w, stride: read.count) }
            }
            return selection
        }
        // At t = 3: recent window {2}, one heavy slot among {0, 1}.
        let perHead = run(.perHead)
        XCTAssertEqual(perHead.perHead[0]!, [[0, 2], [1, 2]])
        XCTAssertEqual(perHead.positions[0], [0, 1, 2])
        // Summed: position 0 has 4 (head 0 at t 0-2, head 1 at t 0), position 1 has 2 (head 1 at t 1-2).
        XCTAssertEqual(run(.sum).positions[0], [0, 2])
        XCTAssertNil(run(.sum).perHead[0])
        // Max: 0 -> 3 (head 0), 1 -> 2 (head 1): also 0.
        XCTAssertEqual(run(.max).positions[0], [0, 2])
    }

    /// One budget rule for every policy: at the same fraction, every budgeted policy's
    /// count at position t is TokenBudget's, InfiniGen's cap included.
    func testOneBudgetRuleAcrossPolicies() throws {
        for f in [0.05, 0.1, 0.2, 0.37] {
            let rule = TokenBudget(fraction: f)
            let ig = try InfiniGenSettings(try PolicyRegistry.parse("infinigen:budget=\(f)").1, layers: 30)
            let h2o = H2OBudget(heavy: f / 2, recent: f / 2)
            for t in 0..<300 {
                let n = rule.count(at: t)
                XCTAssertEqual(ig.cap(at: t), n, "infinigen f \(f) t \(t)")
                let (heavy, recent) = h2o.counts(at: t)
                XCTAssertEqual(heavy + recent, n, "h2o f \(f) t \(t)")
                XCTAssertEqual(StreamingPolicy.positions(at: t, sinks: 4, budget: n)?.count ?? t, n, "streaming f \(f) t \(t)")
            }
        }
        // In the engine: oracle, H2O and StreamingLLM read exactly the same count per position.
        var counts: [String: [Int: Int]] = [:]
        for spec in ["oracle:budget=0.2", "h2o:heavy=0.1,recent=0.1", "streaming:budget=0.2"] {
            let recorder = CountRecorder(try Run.policy(spec, model))
            _ = try Run.teacherForced(model, recorder, tokens)
            counts[spec] = recorder.counts
        }
        XCTAssertEqual(counts["oracle:budget=0.2"], counts["h2o:heavy=0.1,recent=0.1"])
        XCTAssertEqual(counts["oracle:budget=0.2"], counts["streaming:budget=0.2"])
        XCTAssertEqual(counts["oracle:budget=0.2"]?[39], TokenBudget(fraction: 0.2).count(at: 39))
    }

    /// Device-resident extras are reported, not charged to the link.
    func testDeviceBytesAreApartFromTheLink() throws {
        let c = model.config
        let quest = try Run.policy("quest:page=4", model)
        XCTAssertEqual(quest.transfer, .rows(bytesPerRow: nil, extraBytesPerStep: 0))
        XCTAssertEqual(quest.deviceBytesPerToken, Double((c.layers - 2) * c.kvHeads * 4 * c.headDim) / 4)
        let ig = try policy("infinigen:ratio=0.25,columns=query")
        XCTAssertEqual(ig.deviceBytesPerToken, Double((c.layers - 2) * c.kvHeads * 16 * 2), "d' = 16 fp16 columns")
        XCTAssertEqual(try Run.policy("h2o", model).deviceBytesPerToken, 0)
        // Spared layers cost fp16 rows in the one ledger, whatever the managed rate.
        let quant: TransferCost = .rows(bytesPerRow: 72, extraBytesPerStep: 0)
        XCTAssertEqual(KVLedger.linkBytes(rows: 10, managed: false, transfer: quant, headDim: 64), 2560)
        XCTAssertEqual(KVLedger.linkBytes(rows: 10, managed: true, transfer: quant, headDim: 64), 720)
        XCTAssertEqual(KVLedger.linkBytes(rows: 10, managed: false, transfer: .resident, headDim: 64), 0)
        XCTAssertEqual(KVLedger.readBytes(rows: 10, managed: true, transfer: .resident, headDim: 64), 2560)
    }
}

/// Records the union size per position of KV head 0 in the first managed layer.
private final class CountRecorder: ForwardingPolicy {
    private(set) var counts: [Int: Int] = [:]
    override func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        super.select(layer: layer, position: t, queries: queries, selection: selection)
        if layer == firstManagedLayer { counts[t] = selection.positions[0]?.count ?? t }
    }
}
