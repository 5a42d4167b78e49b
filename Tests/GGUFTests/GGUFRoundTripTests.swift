import Foundation
import XCTest
@testable import GGUF

final class GGUFRoundTripTests: XCTestCase {
    func testAllValueTypesRoundTrip() throws {
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(250)), ("i8", .int8(-120)), ("u16", .uint16(65000)), ("i16", .int16(-32000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("f32", .float32(-1.5)),
            ("bool", .bool(false)), ("str", .string("héllo\0world")), ("u64", .uint64(UInt64.max)),
            ("i64", .int64(Int64.min)), ("f64", .float64(1e300)),
            ("empty", .array(.float64, [])),
            ("nested", .array(.array, [.array(.array, [.strings(["deep"])]), .array(.int8, [.int8(-1)])])),
        ]
        var w = GGUFWriter()
        for (k, v) in values { w.set(k, v) }
        let file = try GGUFFile(bytes: try w.serialize())
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.metadataKeys, values.map(\.0))
        for (k, v) in values { XCTAssertEqual(file.metadata[k], v, k) }
        XCTAssertTrue(file.tensors.isEmpty)
    }

    func testSetReplacesInPlace() throws {
        var w = GGUFWriter()
        w.set("a", .int(1))
        w.set("b", .int(2))
        w.set("a", .string("again"))
        let file = try GGUFFile(bytes: try w.serialize())
        XCTAssertEqual(file.metadataKeys, ["a", "b"])
        XCTAssertEqual(try file.string("a"), "again")
    }

    func testTypedAccessors() throws {
        let file = try GGUFFile(bytes: try sampleWriter().serialize(), name: "tiny.gguf")
        XCTAssertEqual(try file.string("general.architecture"), "llama")
        XCTAssertEqual(try file.string("general.name"), "tiny ünïcode")
        XCTAssertEqual(try file.int("llama.block_count"), 2)
        XCTAssertEqual(try file.float("llama.rope.freq_base"), 10000)
        XCTAssertEqual(try file.float("llama.block_count"), 2, "integers are accepted as floats")
        XCTAssertEqual(try file.bool("flag"), true)
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.tokens"), ["<s>", "a", "b", ""])
        XCTAssertEqual(try file.intArray("tokenizer.ggml.token_type"), [3, 1, 1, -1])
        XCTAssertEqual(try file.floatArray("tokenizer.ggml.scores"), [0, -1.5, -2.25, 0.125])

        assertGGUFError(.missingKey, try file.int("llama.nope"), contains: "tiny.gguf: metadata key 'llama.nope' is missing")
        assertGGUFError(.wrongType, try file.int("general.architecture"), contains: "'general.architecture' is string, expected an integer")
        assertGGUFError(.wrongType, try file.string("llama.block_count"), contains: "expected a string")
        assertGGUFError(.wrongType, try file.stringArray("tokenizer.ggml.token_type"), contains: "element 0 is int32")
        assertGGUFError(.wrongType, try file.floatArray("flag"), contains: "is bool, expected an array")
    }

    func testIntAccessorRejectsUInt64BeyondInt() throws {
        var w = GGUFWriter()
        w.set("big", .uint64(UInt64.max))
        let file = try GGUFFile(bytes: try w.serialize())
        assertGGUFError(.wrongType, try file.int("big"), contains: "too large")
    }

    func testTensorTableAndData() throws {
        let bytes = try sampleWriter().serialize()
        let file = try GGUFFile(bytes: bytes)
        XCTAssertEqual(file.tensors.map(\.name), ["f32", "f16", "q8", "q41"])
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.dataOffset % 32, 0)

        let q41 = try XCTUnwrap(file.tensor(named: "q41"))
        XCTAssertEqual(q41.dims, [64, 2])
        XCTAssertEqual(q41.type, .q4_1)
        XCTAssertEqual(q41.rows, 2)
        XCTAssertEqual(q41.rowLength, 64)
        XCTAssertEqual(q41.elementCount, 128)
        XCTAssertEqual(q41.byteCount, 4 * 20)
        XCTAssertEqual(q41.rowByteCount, 40)
        for t in file.tensors {
            XCTAssertEqual(t.offset % 32, 0, t.name)
            XCTAssertGreaterThanOrEqual(t.offset, file.dataOffset)
            XCTAssertEqual(file.data(of: t).count, t.byteCount)
        }
        XCTAssertNil(file.tensor(named: "missing"))
        assertGGUFError(.missingKey, try file.requireTensor("missing"), contains: "tensor 'missing' is missing")

        // Exactly representable values survive F32 and F16 unchanged.
        let ramp = (0..<64).map { Float($0) / 8 - 4 }
        XCTAssertEqual(try file.dequantize(try file.requireTensor("f32")), ramp)
        XCTAssertEqual(try file.dequantize(try file.requireTensor("f16")), ramp)
        // Row access agrees with whole-tensor access.
        let whole = try file.dequantize(q41)
        XCTAssertEqual(try file.dequantize(q41, rows: 1..<2), Array(whole[64...]))
        XCTAssertEqual(try file.dequantize(q41, rows: 1..<1), [])
        assertGGUFError(.invalidArgument, try file.dequantize(q41, rows: 1..<3), contains: "out of range")
    }

    func testCustomAlignment() throws {
        var w = sampleWriter()
        w.set("general.alignment", .uint32(64))
        let file = try GGUFFile(bytes: try w.serialize())
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataOffset % 64, 0)
        for t in file.tensors { XCTAssertEqual(t.offset % 64, 0) }

        var bad = GGUFWriter()
        bad.set("general.alignment", .uint32(48))
        assertGGUFError(.invalid, try bad.serialize(), contains: "power of two")
    }

    func testWriteAndMapFromDisk() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tiny.gguf").path
        let w = sampleWriter()
        try w.write(to: path)
        try w.write(to: path) // overwriting an existing file is fine
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(leftovers, ["tiny.gguf"], "atomic write leaves no temporary files")

        let mapped = try GGUFFile(path: path)
        let inMemory = try GGUFFile(bytes: try w.serialize())
        XCTAssertEqual(mapped.name, "tiny.gguf")
        XCTAssertEqual(mapped.tensors, inMemory.tensors)
        XCTAssertEqual(mapped.metadata, inMemory.metadata)
        for t in mapped.tensors {
            XCTAssertEqual(try mapped.dequantize(t), try inMemory.dequantize(t))
        }

        assertGGUFError(.io, try GGUFFile(path: dir.appendingPathComponent("absent.gguf").path), contains: "absent.gguf: cannot open")
        assertGGUFError(.io, try GGUFFile(path: dir.path), contains: "not a regular file")
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("empty.gguf").path, contents: Data())
        assertGGUFError(.truncated, try GGUFFile(path: dir.appendingPathComponent("empty.gguf").path), contains: "empty.gguf: truncated file")
    }

    func testVersion2IsAccepted() throws {
        var bytes = try sampleWriter().serialize()
        bytes[4] = 2
        XCTAssertEqual(try GGUFFile(bytes: bytes).version, 2)
    }

    func testWriterRejectsInconsistentTensors() {
        func check(_ configure: (inout GGUFWriter) -> Void, _ fragment: String) {
            var w = GGUFWriter()
            configure(&w)
            assertGGUFError(nil, try w.serialize(), contains: fragment)
        }
        check({ $0.addTensor(name: "t", dims: [4, 3], values: [1, 2]) }, "has 2 values but dims [4, 3] need 12")
        check({ $0.addTensor(name: "t", dims: [16], type: .q8_0, values: Array(repeating: 0, count: 16)) }, "not a multiple of the Q8_0 block size 32")
        check({ $0.addTensor(name: "t", dims: [256], type: .q4_K, values: Array(repeating: 0, count: 256)) }, "Q4_K is not supported")
        check({ $0.addTensor(name: "t", dims: [1, 1, 1, 1, 1], values: [0]) }, "5 dimensions")
        check({ $0.addTensor(name: "t", dims: [0], values: []) }, "non-positive dimension")
        check({ $0.addTensor(name: "t", dims: [256], type: .q6_K, rawData: [1, 2, 3]) }, "has 3 bytes of Q6_K data but dims [256] need 210")
        check({ $0.addTensor(name: "t", dims: [32], type: .q8_0, values: [Float](repeating: .nan, count: 32)) }, "needs finite values")
        check({ $0.addTensor(name: "t", dims: [32], type: .q8_0, values: [Float](repeating: 1e9, count: 32)) }, "overflows float16")
        check({
            $0.addTensor(name: "t", dims: [1], values: [0])
            $0.addTensor(name: "t", dims: [1], values: [0])
        }, "duplicate tensor name 't'")
        check({ $0.set("mixed", .array(.int32, [.int32(1), .string("x")])) }, "element 1 is string")
    }
}
