import Foundation
import XCTest
import GGUF
@testable import Model
import Tokenizer
@testable import Policies

/// Not a check: writes what scripts/reference/gqa_ref.py needs to re-implement the
/// per-head conventions in float64 — the wiki window's token ids (as `Corpus.tokens`
/// makes them) and InfiniGen's skewed partial projections (so the script need not redo
/// the SVD). Runs only with INFINIGEN_DUMP_REFERENCE=<file.json>; skipped otherwise.
final class ReferenceDumpTests: XCTestCase {
    func testDumpForTheNumpyGQACheck() throws {
        guard let out = ProcessInfo.processInfo.environment["INFINIGEN_DUMP_REFERENCE"] else {
            throw XCTSkip("set INFINIGEN_DUMP_REFERENCE=<file.json> to write the numpy check's inputs")
        }
        let count = Int(ProcessInfo.processInfo.environment["INFINIGEN_DUMP_TOKENS"] ?? "2048")!
        let model = try InfiniGenReal.model()
        let file = try GGUFFile(path: try Assets.modelPath(searchFrom: #filePath))
        let tokenizer = try BPETokenizer.from(gguf: file)
        let text = try String(contentsOfFile: try Assets.wikiPath(searchFrom: #filePath), encoding: .utf8)
        // As Corpus.tokens: tokenize a prefix of 8 characters a token, take the first `count`.
        let ids = Array(tokenizer.encode(String(text.prefix(count * 8))).prefix(count))
        XCTAssertEqual(ids.count, count)
        let method = try InfiniGenReal.method("infinigen")
        let c = model.config
        var projections: [[Float]] = [], columns: [[Int]] = []
        for l in 0..<c.layers {
            for g in 0..<c.kvHeads {
                let i = l * c.kvHeads + g
                projections.append(Array(UnsafeBufferPointer(start: method.plan.projections[i].pointer,
                                                             count: method.plan.columns[i].count * c.headDim)))
                columns.append(method.plan.columns[i])
            }
        }
        struct Dump: Encodable {
            var tokens: [Int]; var spare: Int; var headDim: Int; var kvHeads: Int
            var columns: [[Int]]; var projections: [[Float]]
        }
        let dump = Dump(tokens: ids, spare: method.settings.spare, headDim: c.headDim, kvHeads: c.kvHeads,
                        columns: columns, projections: projections)
        try JSONEncoder().encode(dump).write(to: URL(fileURLWithPath: out))
    }
}
