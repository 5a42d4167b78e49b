import XCTest
@testable import GGUF

/// Seeded random corruption of a valid file: parsing may throw, but must never crash, and
/// every tensor of a file that parses must dequantize (or throw) without crashing.
final class GGUFFuzzTests: XCTestCase {
    func baseFile() throws -> [UInt8] {
        var w = sampleWriter()
        var rng = SplitMix64(seed: 7)
        w.addTensor(name: "q4k", dims: [256], type: .q4_K,
                    rawData: (0..<144).map { _ in UInt8.random(in: 0...255, using: &rng) })
        w.addTensor(name: "q6k", dims: [256, 1], type: .q6_K,
                    rawData: (0..<210).map { _ in UInt8.random(in: 0...255, using: &rng) })
        return try w.serialize()
    }

    func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: // flip bits
                bytes[at] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: // truncate
                bytes.removeSubrange(at...)
            case 2: // insert random bytes
                let n = Int.random(in: 1...16, using: &rng)
                bytes.insert(contentsOf: (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 3: // delete a range
                bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &rng)))
            case 4, 5: // overwrite a 64- or 32-bit field with an extreme or random value
                let huge: [UInt64] = [.max, .max - 31, UInt64(Int64.max), 1 << 62, 1 << 32, 1 << 31,
                                      0, 1, 0xFFFF_FFFF, UInt64.random(in: 0...UInt64.max, using: &rng)]
                let value = huge.randomElement(using: &rng)!
                let width = Bool.random(using: &rng) ? 8 : 4
                // Fields sit at arbitrary offsets, so also try the 4-aligned positions near `at`.
                let start = Bool.random(using: &rng) ? at : at & ~3
                for k in 0..<width where start + k < bytes.count {
                    bytes[start + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))
                }
            default: break
            }
        }
        return bytes
    }

    func testRandomMutationsNeverCrash() throws {
        let base = try baseFile()
        let original = try GGUFFile(bytes: base)
        XCTAssertEqual(original.tensors.count, 6)
        var rng = SplitMix64(seed: 0xF0CC_ACC1A)
        var parsed = 0, dequantized = 0, errors: [GGUFError.Kind: Int] = [:]
        for _ in 0..<1000 {
            let bytes = mutate(base, &rng)
            do {
                let file = try GGUFFile(bytes: bytes, name: "fuzz.gguf")
                parsed += 1
                for t in file.tensors {
                    XCTAssertLessThanOrEqual(t.offset + t.byteCount, bytes.count)
                    XCTAssertEqual(t.elementCount, t.dims.reduce(1, *))
                    if let values = try? file.dequantize(t) {
                        XCTAssertEqual(values.count, t.elementCount)
                        dequantized += 1
                    }
                }
            } catch let error as GGUFError {
                XCTAssertFalse(error.message.isEmpty)
                XCTAssertTrue(error.message.hasPrefix("fuzz.gguf: "), error.message)
                errors[error.kind, default: 0] += 1
            }
        }
        print("fuzz: \(parsed)/1000 mutated files parsed, \(dequantized) tensors dequantized; errors by kind: \(errors)")
        // Mutations inside tensor data leave a valid file, others must be caught.
        XCTAssertGreaterThan(parsed, 50)
        XCTAssertGreaterThan(1000 - parsed, 300)
    }
}
