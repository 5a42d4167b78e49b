import XCTest
@testable import Model
@testable import Policies

final class QuantizationTests: XCTestCase {
    private func roundTrip(_ q: GroupQuantizer, _ x: [Float]) -> (values: [Float], parameters: [Float16]) {
        var codes = [UInt8](repeating: 0, count: q.codeBytes)
        var parameters = [Float16](repeating: 0, count: q.parameterCount)
        var out = [Float](repeating: .nan, count: q.rowLength)
        x.withUnsafeBufferPointer { xb in
            codes.withUnsafeMutableBufferPointer { c in
                parameters.withUnsafeMutableBufferPointer { p in
                    q.quantize(xb.baseAddress!, codes: c.baseAddress!, parameters: p.baseAddress!)
                    q.dequantize(codes: c.baseAddress!, parameters: p.baseAddress!, into: out.withUnsafeMutableBufferPointer { $0.baseAddress! })
                }
            }
        }
        return (out, parameters)
    }

    /// |x - deq(q(x))| <= scale/2 (+ a little for the fp16 min and scale) for every width.
    func testRoundTripErrorWithinHalfAStep() {
        var rng = SplitMix64(seed: 5)
        for bits in [8, 4, 2, 1] {
            for group in [8, 16, 32, 64] {
                let q = GroupQuantizer(bits: bits, group: group, rowLength: 64)
                for _ in 0..<50 {
                    let x = rng.normals(64, scale: 3)
                    let (y, p) = roundTrip(q, x)
                    for g in 0..<q.groups {
                        let slice = x[(g * group)..<((g + 1) * group)]
                        let range = slice.max()! - slice.min()!
                        let scale = Float(p[2 * g])
                        XCTAssertEqual(scale, range / Float(q.levels), accuracy: range * 1e-3 + 1e-6)
                        for i in (g * group)..<((g + 1) * group) {
                            XCTAssertLessThanOrEqual(abs(x[i] - y[i]), scale / 2 + range * 2e-3 + 1e-5,
                                                     "bits \(bits) group \(group) value \(x[i]) -> \(y[i])")
                        }
                    }
                }
            }
        }
    }

    /// A constant group (scale 0) and a group's minimum come back exactly; its maximum is
    /// off only by the fp16 rounding of the scale (2/3 is 0.66650390625 in fp16).
    func testConstantGroupAndExtremes() {
        let q = GroupQuantizer(bits: 2, group: 8, rowLength: 16)
        let x: [Float] = [Float](repeating: 0.5, count: 8) + [-1, 1, -1, 1, 1, 1, -1, -1]
        let (y, p) = roundTrip(q, x)
        XCTAssertEqual(Array(y[0..<8]), Array(x[0..<8]))
        XCTAssertEqual(p[0], 0)
        for i in 8..<16 where x[i] < 0 { XCTAssertEqual(y[i], -1) }
        for i in 8..<16 where x[i] > 0 { XCTAssertEqual(y[i], -1 + 3 * Float(Float16(Float(2) / 3))) }
    }

    /// Packing: 4-bit codes go two to a byte, low nibble first.
    func testPackingLayout() {
        let q = GroupQuantizer(bits: 4, group: 16, rowLength: 16)
        let x = (0..<16).map { Float($0) }             // min 0, scale 1: code = value
        var codes = [UInt8](repeating: 0, count: q.codeBytes)
        var parameters = [Float16](repeating: 0, count: q.parameterCount)
        x.withUnsafeBufferPointer { q.quantize($0.baseAddress!, codes: &codes, parameters: &parameters) }
        XCTAssertEqual(codes, [0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE])
        XCTAssertEqual(parameters, [1, 0])
        XCTAssertEqual(GroupQuantizer(bits: 1, group: 64, rowLength: 64).codeBytes, 8)
        XCTAssertEqual(GroupQuantizer(bits: 2, group: 64, rowLength: 64).rowBytes, 16 + 4)
    }

    func testStorageHoldsPackedBytesAndServesQuantizedRows() {
        let (layers, kvHeads, d) = (4, 2, 64)
        var rng = SplitMix64(seed: 9)
        for bits in [8, 4, 2, 1] {
            let storage = QuantKVStorage(layers: layers, kvHeads: kvHeads, headDim: d, bits: bits, group: 64, spare: 2, capacity: 8)
            // Two quantized layers × 2 heads × K and V × 8 rows × (codes + 2 fp16).
            XCTAssertEqual(storage.quantizedBytes, 2 * kvHeads * 2 * 8 * (d * bits / 8 + 4))
            let n = 11                                   // forces one growth
            var rows: [[Float]] = []
            for t in 0..<n {
                let k = rng.normals(kvHeads * d), v = rng.normals(kvHeads * d)
                rows.append(k + v)
                for l in 0..<layers { storage.write(layer: l, position: t, keys: k, values: v) }
            }
            XCTAssertEqual(storage.capacity, 16)
            XCTAssertEqual(storage.quantizedBytes, 2 * kvHeads * 2 * 16 * (d * bits / 8 + 4))
            XCTAssertNotNil(storage.dense(layer: 1, kvHead: 0))
            XCTAssertNil(storage.dense(layer: 2, kvHead: 0))
            let q = GroupQuantizer(bits: bits, group: 64, rowLength: d)
            let positions: [Int32] = [10, 0, 5]
            var keys = [Float](repeating: 0, count: 3 * d), values = [Float](repeating: 0, count: 3 * d)
            for l in [1, 3] {
                for h in 0..<kvHeads {
                    positions.withUnsafeBufferPointer { storage.gather(layer: l, kvHead: h, positions: $0, keys: &keys, values: &values) }
                    for (j, p) in positions.enumerated() {
                        let k = Array(rows[Int(p)][(h * d)..<((h + 1) * d)])
                        let v = Array(rows[Int(p)][(kvHeads * d + h * d)..<(kvHeads * d + (h + 1) * d)])
                        if l < 2 {
                            XCTAssertEqual(Array(keys[(j * d)..<((j + 1) * d)]), k, "spared layers are exact")
                        } else {
                            XCTAssertEqual(Array(keys[(j * d)..<((j + 1) * d)]), roundTrip(q, k).values, "bits \(bits)")
                            XCTAssertEqual(Array(values[(j * d)..<((j + 1) * d)]), roundTrip(q, v).values, "bits \(bits)")
                        }
                    }
                }
            }
            let expected = (2.0 * Double(2 * kvHeads * d * 4) + 2.0 * Double(2 * kvHeads * (d * bits / 8 + 4))) / 4
            XCTAssertEqual(storage.bytesPerTokenPerLayer, expected)
        }
    }

    func testQuantPolicyTransferAndStorage() throws {
        let model = Tiny.model()
        let policy = try Run.policy("quant:bits=4", model)
        // K and V: 32 code bytes + one fp16 scale and min each.
        XCTAssertEqual(policy.transfer, .rows(bytesPerRow: 2 * (32 + 4), extraBytesPerStep: 0))
        XCTAssertTrue(policy.makeStorage(config: model.config, capacity: 4) is QuantKVStorage)
        XCTAssertEqual(try Run.policy("flexgen", model).transfer, .rows(bytesPerRow: nil, extraBytesPerStep: 0))
    }
}
