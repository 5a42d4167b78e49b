import XCTest
@testable import GGUF

/// Checks against the real SmolLM2-135M-Instruct Q4_1 file, when the asset cache has it.
/// Reference values come from the gguf Python package's dequantizers.
final class RealModelTests: XCTestCase {
    func openModel() throws -> GGUFFile {
        try GGUFFile(path: try RealModel.path())
    }

    func testStructure() throws {
        let file = try openModel()
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.tensors.count, 272)
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.int("llama.block_count"), 30)
        XCTAssertEqual(try file.int("llama.embedding_length"), 576)
        XCTAssertEqual(try file.int("llama.attention.head_count"), 9)
        XCTAssertEqual(try file.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try file.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.tokens").count, 49152)
        XCTAssertEqual(try file.intArray("tokenizer.ggml.token_type").count, 49152)
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.merges").count, 48900)
        XCTAssertEqual(try file.string("tokenizer.ggml.model"), "gpt2")

        var byType: [GGMLType: Int] = [:]
        for t in file.tensors { byType[t.type, default: 0] += 1 }
        XCTAssertEqual(byType, [.q4_1: 210, .f32: 61, .q8_0: 1])

        let embd = try file.requireTensor("token_embd.weight")
        XCTAssertEqual(embd.dims, [576, 49152])
        XCTAssertEqual(embd.type, .q8_0)
        XCTAssertEqual(embd.rows, 49152)
        let q = try file.requireTensor("blk.0.attn_q.weight")
        XCTAssertEqual(q.dims, [576, 576])
        XCTAssertEqual(q.type, .q4_1)
        XCTAssertEqual(try file.requireTensor("blk.29.attn_k.weight").dims, [576, 192])
        XCTAssertEqual(try file.requireTensor("blk.29.ffn_down.weight").dims, [1536, 576])
        XCTAssertEqual(try file.requireTensor("output_norm.weight").type, .f32)
        for t in file.tensors { XCTAssertEqual(t.offset % file.alignment, 0, t.name) }
    }

    func testDequantizedValues() throws {
        let file = try openModel()
        let embd = try file.requireTensor("token_embd.weight")
        let row1 = try file.dequantize(embd, rows: 1..<2)
        XCTAssertEqual(row1.count, 576)
        XCTAssertTrue(row1.allSatisfy(\.isFinite))
        XCTAssertEqual(Array(row1[0..<4]), [-0.0238037109375, -0.015869140625, -0.0396728515625, 0.015869140625])
        XCTAssertEqual(row1.reduce(0.0) { $0 + Double($1) }, 0.35922718048095703, accuracy: 1e-9)
        let last = try file.dequantize(embd, rows: 49151..<49152)
        XCTAssertEqual(Array(last[0..<4]), [0.011505126953125, 0.0057525634765625, 0.0977935791015625, -0.0977935791015625])

        let q = try file.dequantize(try file.requireTensor("blk.0.attn_q.weight"))
        XCTAssertEqual(Array(q[0..<4]), [-0.0963134765625, 0.1573486328125, -0.0963134765625, -0.73046875])
        XCTAssertEqual(q[0..<576].reduce(0.0) { $0 + Double($1) }, 1.00726318359375, accuracy: 1e-9)

        let down = try file.requireTensor("blk.29.ffn_down.weight")
        let lastRow = try file.dequantize(down, rows: 575..<576)
        XCTAssertEqual(Array(lastRow[0..<4]), [-0.22918701171875, -0.03912353515625, -0.276702880859375, 0.2459716796875])

        let norm = try file.dequantize(try file.requireTensor("blk.0.attn_norm.weight"))
        XCTAssertEqual(Array(norm[0..<4]), [0.01397705078125, 0.0238037109375, -0.019775390625, -0.0302734375])
    }

    /// Dequantizes every tensor; reports the time (meaningful in release builds).
    func testDequantizeWholeModel() throws {
        let file = try openModel()
        let start = Date()
        var total = 0, sum = 0.0
        for t in file.tensors {
            let values = try file.dequantize(t)
            total += values.count
            sum += Double(values[values.count / 2])
        }
        let seconds = Date().timeIntervalSince(start)
        print("dequantized \(total) values from \(file.byteCount) bytes in \(String(format: "%.3f", seconds)) s")
        XCTAssertEqual(total, file.tensors.reduce(0) { $0 + $1.elementCount })
        XCTAssertTrue(sum.isFinite)
    }
}
