import Foundation
import XCTest
import GGUF
@testable import Model
import Tokenizer
@testable import Policies

/// The per-query-head conventions against an independent float64 re-implementation
/// (scripts/reference/gqa_ref.py, output committed as gqa_ref_wiki256.json): teacher-forced
/// perplexity on the first 256 wiki tokens, every position managed from layer 2 on.
/// float32 against float64 can flip near-tied threshold counts and top-k choices, so
/// InfiniGen gets a looser bound than the oracle.
final class GQAReferenceTests: XCTestCase {
    private struct Expected: Decodable {
        var perplexity: Double
        var union_read_fraction_managed: Double
        var query_head_read_fraction_managed: Double
    }

    /// Sums the rows each managed (layer, KV head, position) selection reads: the union,
    /// and per query head.
    private final class Counter: ForwardingPolicy {
        var union = 0.0, perHead = 0.0
        let groupSize: Int
        init(_ inner: KVPolicy, groupSize: Int) { self.groupSize = groupSize; super.init(inner) }
        override func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
            super.select(layer: layer, position: t, queries: queries, selection: selection)
            for h in selection.positions.indices {
                let n = selection.positions[h]?.count ?? t
                union += Double(n)
                perHead += selection.perHead[h].map { Double($0.reduce(0) { $0 + $1.count }) / Double(groupSize) } ?? Double(n)
            }
        }
    }

    func testPerHeadConventionsMatchTheFloat64Reference() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/reference/gqa_ref_wiki256.json")
        let expected = try JSONDecoder().decode([String: Expected].self,
                                                from: try Data(contentsOf: fixture).filteringKeys(["full", "tokens", "dtype"]))
        let model = try InfiniGenReal.model()
        let c = model.config
        let file = try GGUFFile(path: try Assets.modelPath(searchFrom: #filePath))
        let text = try String(contentsOfFile: try Assets.wikiPath(searchFrom: #filePath), encoding: .utf8)
        let ids = Array(try BPETokenizer.from(gguf: file).encode(String(text.prefix(256 * 8))).prefix(256))
        let cases: [(String, Double)] = [("oracle:budget=0.2,gqa=per-head", 2e-3),
                                         ("infinigen:budget=0.2,alpha=5.0,gqa=per-head", 1e-2),
                                         ("infinigen:budget=0.2,alpha=99.0,gqa=per-head", 1e-2)]
        for (spec, tolerance) in cases {
            let want = try XCTUnwrap(expected[spec], spec)
            let method = try PolicyRegistry.make(spec, model: model, context: InfiniGenReal.calibrationContext())
            let policy = Counter(method.makePolicy(), groupSize: c.groupSize)
            let seq = model.newSequence(policy: policy, policyStart: 0, capacity: ids.count)
            let logits = try model.forward([(seq, ids)], logits: .all)[0].array
            let lp = Run.logprobs(logits, tokens: ids, vocab: c.vocabSize)
            let perplexity = exp(-lp.reduce(0, +) / Double(lp.count))
            XCTAssertEqual(perplexity, want.perplexity, accuracy: tolerance * want.perplexity, spec)
            let managed = Double((c.layers - 2) * c.kvHeads * ids.count * (ids.count - 1) / 2)
            XCTAssertEqual(policy.union / managed, want.union_read_fraction_managed, accuracy: 0.01, spec)
            XCTAssertEqual(policy.perHead / managed, want.query_head_read_fraction_managed, accuracy: 0.01, spec)
        }
    }
}

private extension Data {
    /// The fixture's top-level object without the non-policy entries.
    func filteringKeys(_ keys: Set<String>) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: self) as! [String: Any]
        for k in keys { object[k] = nil }
        return try JSONSerialization.data(withJSONObject: object)
    }
}
