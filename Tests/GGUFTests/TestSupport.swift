import Foundation
import XCTest
@testable import GGUF
@_exported import TestSupport

/// Little-endian byte building for hand-made blocks.
extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
    mutating func appendHalf(_ bits: UInt16) { appendLE(bits) }
}

/// Dequantizes raw block bytes through the public API.
func dequantized(_ type: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
    var out = [Float](repeating: .nan, count: count)
    try bytes.withUnsafeBytes { src in
        try out.withUnsafeMutableBufferPointer { dst in
            try Dequantize.row(type, src.baseAddress!, count: count, into: dst.baseAddress!)
        }
    }
    return out
}

/// Asserts that `body` throws a GGUFError (of `kind`, if given) and returns it.
@discardableResult
func assertGGUFError<T>(_ kind: GGUFError.Kind? = nil, _ body: @autoclosure () throws -> T,
                        contains fragment: String? = nil,
                        file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
    do {
        _ = try body()
        XCTFail("expected a GGUFError", file: file, line: line)
    } catch let error as GGUFError {
        if let kind { XCTAssertEqual(error.kind, kind, error.message, file: file, line: line) }
        if let fragment {
            XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
        }
        XCTAssertFalse(error.message.contains("\n"), "message must be one line", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a GGUFError, got \(error)", file: file, line: line)
    }
    return nil
}

/// A small but complete model-like file used by several tests.
func sampleWriter() -> GGUFWriter {
    var w = GGUFWriter()
    w.set("general.architecture", .string("llama"))
    w.set("general.name", .string("tiny ünïcode"))
    w.set("llama.block_count", .int(2))
    w.set("llama.rope.freq_base", .float(10000))
    w.set("tokenizer.ggml.tokens", .strings(["<s>", "a", "b", ""]))
    w.set("tokenizer.ggml.token_type", .ints([3, 1, 1, -1]))
    w.set("tokenizer.ggml.scores", .floats([0, -1.5, -2.25, 0.125]))
    w.set("nested", .array(.array, [.ints([1, 2]), .strings(["x"]), .array(.uint8, [])]))
    w.set("flag", .bool(true))
    let ramp = (0..<64).map { Float($0) / 8 - 4 }
    w.addTensor(name: "f32", dims: [32, 2], type: .f32, values: ramp)
    w.addTensor(name: "f16", dims: [64], type: .f16, values: ramp)
    w.addTensor(name: "q8", dims: [32, 3], type: .q8_0, values: (0..<96).map { sin(Float($0)) })
    w.addTensor(name: "q41", dims: [64, 2], type: .q4_1, values: (0..<128).map { cos(Float($0) / 3) })
    return w
}
