import XCTest
@testable import Offload

final class ModelShapeTests: XCTestCase {
    let tiny = Fixtures.tiny

    func testWeightCountsByHand() {
        // W_q 8x8 + W_k 8x4 + W_v 8x4 + W_o 8x8 = 64 + 32 + 32 + 64
        XCTAssertEqual(tiny.attentionWeightElements, 192)
        XCTAssertEqual(tiny.mlpWeightElements, 2 * 8 * 16)
        // K and V, 1 KV head of 4, 2 bytes.
        XCTAssertEqual(tiny.kvBytesPerTokenPerLayer, 16)
        var gated = tiny
        gated.mlp = .gated
        XCTAssertEqual(gated.mlpWeightElements, 3 * 8 * 16)
    }

    func testDecodeCountsByHand() {
        let proj = tiny.projectionWork(rows: 1)
        XCTAssertEqual(proj.flops, 2 * 192)
        // weights 192 x 2 B + activations (8 in, 8 q, 4 k, 4 v, 8 attn in, 8 out) x 2 B
        XCTAssertEqual(proj.bytes, 384 + 40 * 2)
        let attention = tiny.attentionWork(batch: 1, queries: 1, keys: 10)
        // 2 heads x 10 keys = 20 scores; QK^T and PV: 4 x 20 x head_dim 4.
        XCTAssertEqual(attention.flops, 320)
        // KV 10 x 16 B + q and output 2 x 8 x 2 B + 12 B per score.
        XCTAssertEqual(attention.bytes, 160 + 32 + 240)
        XCTAssertEqual(tiny.mlpWork(rows: 1).flops, 2 * 256)
        XCTAssertEqual(tiny.decodeLayerWork(batch: 1, keys: 10).flops, 384 + 320 + 512)
        XCTAssertEqual(tiny.lmHeadWork(rows: 1).flops, 2 * 8 * 10)
    }

    func testPrefillCountsByHand() {
        // batch 2, prompt 3: 6 rows; 2 x 2 heads x 3 x 3 = 36 scores.
        let work = tiny.prefillLayerWork(batch: 2, prompt: 3)
        let projections: Double = 2 * 6 * 192, scores: Double = 4 * 36 * 4, mlp: Double = 2 * 6 * 256
        XCTAssertEqual(work.flops, projections + scores + mlp)
    }

    func testBundledShapesLoadAndMatchPublishedConfigs() throws {
        XCTAssertEqual(ModelShape.bundledNames,
                       ["llama-2-13b", "llama-2-7b", "opt-13b", "opt-30b", "opt-6.7b", "smollm2-135m"])
        let opt = try ModelShape.load(named: "opt-13b")
        let elements: Double = 4 * 5120 * 5120 + 2 * 5120 * 20480
        XCTAssertEqual(opt.layerWeightBytes, elements * 2)
        XCTAssertEqual(opt.kvBytesPerTokenPerLayer, 2 * 5120 * 2)
        XCTAssertEqual(try ModelShape.load(named: "opt-30b").weightOnDeviceFraction, 0.7)
        let smol = try ModelShape.load(named: "smollm2-135m")
        XCTAssertEqual(smol.kvHeads, 3)
        XCTAssertEqual(smol.kvBytesPerTokenPerLayer, 2 * 3 * 64 * 2)
        XCTAssertEqual(smol.positional, .rotary)
        XCTAssertTrue(smol.tiedEmbeddings)
    }

    func testMissingFieldNamesFieldAndFile() throws {
        let json = #"{"name":"x","family":"opt","positional":"learned","layers":2,"hidden":8,"kv_heads":1,"head_dim":4,"ffn":16,"vocab":10,"mlp":"plain","bytes_per_element":2}"#
        XCTAssertThrowsError(try ModelShape.decode(Data(json.utf8), file: "x.json")) { error in
            XCTAssertEqual("\(error)", "model shape x.json: field 'heads' is missing")
        }
    }

    func testInvalidNumbersAreRejected() {
        var bad = tiny
        bad.kvHeads = 3
        XCTAssertThrowsError(try bad.validate(file: "t.json")) { error in
            XCTAssertEqual("\(error)", "model shape t.json: field 'kv_heads' must divide heads (2)")
        }
        bad = tiny
        bad.layers = 0
        XCTAssertThrowsError(try bad.validate(file: "t.json")) { error in
            XCTAssertTrue("\(error)".contains("'layers' must be a positive integer"))
        }
        XCTAssertThrowsError(try ModelShape.load(named: "gpt-5")) { error in
            XCTAssertTrue("\(error)".hasPrefix("no model shape named 'gpt-5' (available: llama-2-13b"))
        }
    }
}
