import XCTest
@testable import GGUF

/// Malformed files must throw a one-line GGUFError, never crash or allocate absurdly.
final class GGUFErrorTests: XCTestCase {
    // A file with no metadata and one F32 tensor "x" of dims [32, 2] has a fixed layout:
    // header 0..<24, name length 24, name 32, n_dims 33, dims 37 and 45, type 53,
    // offset 57, tensor table ends at 65, data at 96..<352.
    let nDimsAt = 33, dim0At = 37, dim1At = 45, typeAt = 53, offsetAt = 57

    func oneTensorFile(type: GGMLType = .f32, dims: [Int] = [32, 2]) throws -> [UInt8] {
        var w = GGUFWriter()
        let count = dims.reduce(1, *)
        if Quantize.supports(type) {
            w.addTensor(name: "x", dims: dims, type: type, values: (0..<count).map { Float($0) })
        } else {
            w.addTensor(name: "x", dims: dims, type: type,
                        rawData: [UInt8](repeating: 0, count: count / type.blockElements * type.blockBytes))
        }
        return try w.serialize()
    }

    func patch<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, _ value: T) -> [UInt8] {
        var out = bytes
        Swift.withUnsafeBytes(of: value.littleEndian) { out.replaceSubrange(offset..<(offset + $0.count), with: $0) }
        return out
    }

    func parse(_ bytes: [UInt8]) throws -> GGUFFile { try GGUFFile(bytes: bytes, name: "model.gguf") }

    func testLayoutAssumption() throws {
        let bytes = try oneTensorFile()
        XCTAssertEqual(bytes.count, 96 + 256)
        let file = try parse(bytes)
        XCTAssertEqual(file.tensors.first?.offset, 96)
        XCTAssertEqual(bytes[32], UInt8(ascii: "x"))
    }

    func testHeaderErrors() throws {
        let good = try oneTensorFile()
        assertGGUFError(.badMagic, try parse(Array("GGUX".utf8) + good[4...]),
                        contains: "model.gguf: not a GGUF file: magic bytes are 47 47 55 58")
        assertGGUFError(.truncated, try parse([0x47]),
                        contains: "model.gguf: truncated file: magic ends at byte 4 but the file has 1 bytes")
        assertGGUFError(.unsupportedVersion, try parse(patch(good, at: 4, UInt32(1))), contains: "version 1 (GGUF v1 is obsolete)")
        assertGGUFError(.unsupportedVersion, try parse(patch(good, at: 4, UInt32(4))), contains: "unsupported GGUF version 4")
        assertGGUFError(.unsupportedVersion, try parse(patch(good, at: 4, UInt32(3).byteSwapped)), contains: "big-endian")
        assertGGUFError(.truncated, try parse(patch(good, at: 8, UInt64.max)), contains: "tensor count (18446744073709551615 items)")
        assertGGUFError(.truncated, try parse(patch(good, at: 16, UInt64(1) << 60)), contains: "metadata count")
    }

    /// Every cut before the end of the last tensor's data fails; every cut after it parses.
    func testTruncationAtEveryCutPoint() throws {
        let bytes = try sampleWriter().serialize()
        let file = try parse(bytes)
        let dataEnd = file.tensors.map { $0.offset + $0.byteCount }.max()!
        for cut in 0..<bytes.count {
            if cut < dataEnd {
                assertGGUFError(.truncated, try parse(Array(bytes[..<cut])), contains: "model.gguf: truncated file: ")
            } else {
                XCTAssertNoThrow(try parse(Array(bytes[..<cut])), "cut \(cut)")
            }
        }
    }

    func testTensorTableErrors() throws {
        let good = try oneTensorFile()
        assertGGUFError(.unknownType, try parse(patch(good, at: typeAt, UInt32(99))),
                        contains: "model.gguf: tensor 'x' has unknown ggml type 99")
        assertGGUFError(.unknownType, try parse(patch(good, at: typeAt, UInt32(4))), contains: "unknown ggml type 4")
        assertGGUFError(.invalid, try parse(patch(good, at: nDimsAt, UInt32(5))), contains: "tensor 'x' has 5 dimensions")
        assertGGUFError(.invalid, try parse(patch(good, at: nDimsAt, UInt32(0))), contains: "has 0 dimensions")
        assertGGUFError(.invalid, try parse(patch(good, at: nDimsAt, UInt32.max)), contains: "4294967295 dimensions")
        assertGGUFError(.invalid, try parse(patch(good, at: dim1At, UInt64(0))), contains: "invalid dimension 1: 0")
        assertGGUFError(.invalid, try parse(patch(good, at: dim0At, UInt64.max)), contains: "invalid dimension 0")
        let huge = patch(patch(good, at: dim0At, UInt64(1) << 40), at: dim1At, UInt64(1) << 40)
        assertGGUFError(.invalid, try parse(huge), contains: "element count overflows")
        let bytesOverflow = patch(patch(good, at: dim0At, UInt64(1) << 31), at: dim1At, UInt64(1) << 31)
        assertGGUFError(.invalid, try parse(bytesOverflow), contains: "byte size overflows")
        assertGGUFError(.truncated, try parse(patch(good, at: dim1At, UInt64(1) << 30)),
                        contains: "tensor 'x' data (137438953472 bytes at data offset 0) ends at byte 137438953568 but the file has 352 bytes")
        assertGGUFError(.invalid, try parse(patch(good, at: offsetAt, UInt64(4))), contains: "offset 4 is not a multiple of the alignment 32")
        assertGGUFError(.truncated, try parse(patch(good, at: offsetAt, UInt64(1) << 40)), contains: "tensor 'x' data")
        assertGGUFError(.truncated, try parse(patch(good, at: offsetAt, UInt64.max - 31)), contains: "past byte")
        assertGGUFError(.truncated, try parse(patch(good, at: 24, UInt64.max)), contains: "tensor info 0 name")
    }

    func testRowLengthMustBeWholeBlocks() throws {
        let good = try oneTensorFile(type: .q8_0, dims: [64])
        assertGGUFError(.invalid, try parse(patch(good, at: dim0At, UInt64(16))),
                        contains: "tensor 'x' row length 16 is not a multiple of the Q8_0 block size 32")
    }

    func testDuplicateNames() throws {
        var w = GGUFWriter()
        w.set("a", .int(1))
        w.set("b", .int(2))
        var bytes = try w.serialize()
        // Keys are stored as u64 length + bytes; the second key's byte follows the first entry.
        let second = 24 + (8 + 1 + 4 + 4) + 8
        XCTAssertEqual(bytes[second], UInt8(ascii: "b"))
        bytes[second] = UInt8(ascii: "a")
        assertGGUFError(.invalid, try parse(bytes), contains: "duplicate metadata key 'a' (entry 1)")

        var t = GGUFWriter()
        t.addTensor(name: "p", dims: [1], values: [0])
        t.addTensor(name: "q", dims: [1], values: [0])
        var tb = try t.serialize()
        let secondName = 24 + (8 + 1 + 4 + 8 + 4 + 8) + 8
        XCTAssertEqual(tb[secondName], UInt8(ascii: "q"))
        tb[secondName] = UInt8(ascii: "p")
        assertGGUFError(.invalid, try parse(tb), contains: "duplicate tensor name 'p'")
    }

    func testMetadataErrors() throws {
        var w = GGUFWriter()
        w.set("k", .array(.uint8, [.uint8(1), .uint8(2), .uint8(3)]))
        let good = try w.serialize()
        // key length 24, key 32, value type 33, element type 37, count 41, elements 49.
        XCTAssertEqual(good.count, 52)
        assertGGUFError(.unknownType, try parse(patch(good, at: 33, UInt32(13))), contains: "metadata 'k' has unknown value type 13 at byte 33")
        assertGGUFError(.unknownType, try parse(patch(good, at: 37, UInt32(77))), contains: "element type has unknown value type 77")
        assertGGUFError(.truncated, try parse(patch(good, at: 41, UInt64(1) << 62)), contains: "metadata 'k' element count (4611686018427387904 items)")
        assertGGUFError(.truncated, try parse(patch(good, at: 41, UInt64(4))), contains: "metadata 'k' element count (4 items)")
        assertGGUFError(.truncated, try parse(patch(good, at: 24, UInt64.max)), contains: "metadata key 0 needs 18446744073709551615 bytes")

        // String arrays: each element needs at least its 8-byte length.
        var s = GGUFWriter()
        s.set("s", .strings(["a"]))
        assertGGUFError(.truncated, try parse(patch(try s.serialize(), at: 41, UInt64(2))), contains: "element count (2 items)")
    }

    func testArrayNestingLimit() throws {
        func nested(_ depth: Int) -> GGUFValue {
            var v = GGUFValue.array(.int8, [.int8(7)])
            for _ in 1..<depth { v = .array(.array, [v]) }
            return v
        }
        var ok = GGUFWriter()
        ok.set("n", nested(GGUFParser.maxArrayDepth))
        XCTAssertEqual(try parse(try ok.serialize()).metadata["n"], nested(GGUFParser.maxArrayDepth))
        var deep = GGUFWriter()
        deep.set("n", nested(GGUFParser.maxArrayDepth + 1))
        assertGGUFError(.invalid, try parse(try deep.serialize()), contains: "nests arrays more than 8 deep")
    }

    func testBadAlignmentMetadata() throws {
        var w = GGUFWriter()
        w.set("general.alignment", .uint32(32))
        let good = try w.serialize() // no tensors, so the u32 value is the last 4 bytes
        for bad: UInt32 in [0, 3, 48] {
            assertGGUFError(.invalid, try parse(patch(good, at: good.count - 4, bad)),
                            contains: "general.alignment must be a power of two integer, got uint32(\(bad))")
        }
        for value in [GGUFValue.string("32"), .int64(-32)] {
            var other = GGUFWriter()
            other.set("general.alignment", value)
            assertGGUFError(.invalid, try other.serialize(), contains: "general.alignment")
        }
    }

    func testUnsupportedTypeParsesButDoesNotDequantize() throws {
        let file = try parse(try oneTensorFile(type: .q2_K, dims: [256]))
        let x = try file.requireTensor("x")
        XCTAssertEqual(x.type, .q2_K)
        XCTAssertEqual(x.byteCount, 84)
        assertGGUFError(.unsupported, try file.dequantize(x), contains: "model.gguf: tensor 'x': dequantization of Q2_K is not supported")
    }
}
