import Foundation
import Model
import Numerics

/// A KV cache that really stores low-bit K and V: each row (one token, one KV head) is
/// quantized by a `GroupQuantizer` when written and dequantized when gathered. The
/// first `spare` layers keep full-precision f32 rows (the artifact spares layers 0 and 1)
/// and serve them in place through `dense`; quantized layers return nil there, so the
/// engine gathers — dequantizes — every row it reads.
///
/// `gather` only reads, so the engine may call it for several heads at once.
public final class QuantKVStorage: KVStorage, @unchecked Sendable {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public let spare: Int
    let quantizer: GroupQuantizer
    public private(set) var capacity: Int

    /// Full-precision layers `0..<spare` (nil when none).
    private var denseLayers: DenseKVStorage?
    /// Per quantized (layer, KV head), index `(layer - spare) * kvHeads + head`:
    /// packed codes (`capacity × codeBytes`) and fp16 (scale, min) pairs.
    private var keyCodes: [UnsafeMutablePointer<UInt8>] = []
    private var valueCodes: [UnsafeMutablePointer<UInt8>] = []
    private var keyParameters: [UnsafeMutablePointer<Float16>] = []
    private var valueParameters: [UnsafeMutablePointer<Float16>] = []
    private var written = 0

    public init(layers: Int, kvHeads: Int, headDim: Int, bits: Int, group: Int, spare: Int, capacity: Int = 256) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.spare = max(0, min(spare, layers))
        quantizer = GroupQuantizer(bits: bits, group: group, rowLength: headDim)
        self.capacity = max(capacity, 1)
        denseLayers = self.spare > 0
            ? DenseKVStorage(layers: self.spare, kvHeads: kvHeads, headDim: headDim, capacity: capacity) : nil
        let slots = (layers - self.spare) * kvHeads
        for _ in 0..<slots {
            keyCodes.append(.allocate(capacity: self.capacity * quantizer.codeBytes))
            valueCodes.append(.allocate(capacity: self.capacity * quantizer.codeBytes))
            keyParameters.append(.allocate(capacity: self.capacity * quantizer.parameterCount))
            valueParameters.append(.allocate(capacity: self.capacity * quantizer.parameterCount))
        }
    }

    deinit {
        for p in keyCodes + valueCodes { p.deallocate() }
        for p in keyParameters + valueParameters { p.deallocate() }
    }

    /// Bytes held for quantized rows (codes and fp16 parameters, all reserved capacity).
    public var quantizedBytes: Int {
        keyCodes.count * 2 * capacity * quantizer.rowBytes
    }

    /// Average over layers of the bytes kept per token: f32 K and V in spared layers,
    /// packed codes plus fp16 scale and min in the others.
    public var bytesPerTokenPerLayer: Double {
        let full = Double(2 * kvHeads * headDim * 4)
        let packed = Double(2 * kvHeads * quantizer.rowBytes)
        return (Double(spare) * full + Double(layers - spare) * packed) / Double(max(layers, 1))
    }

    public func reserve(_ n: Int) {
        denseLayers?.reserve(n)
        guard n > capacity else { return }
        var newCapacity = capacity
        while newCapacity < n { newCapacity *= 2 }
        let rows = min(written, capacity)
        func grow<T>(_ old: [UnsafeMutablePointer<T>], perRow: Int) -> [UnsafeMutablePointer<T>] {
            old.map { p in
                let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity * perRow)
                q.update(from: p, count: rows * perRow)
                p.deallocate()
                return q
            }
        }
        keyCodes = grow(keyCodes, perRow: quantizer.codeBytes)
        valueCodes = grow(valueCodes, perRow: quantizer.codeBytes)
        keyParameters = grow(keyParameters, perRow: quantizer.parameterCount)
        valueParameters = grow(valueParameters, perRow: quantizer.parameterCount)
        capacity = newCapacity
    }

    public func write(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        if layer < spare {
            denseLayers!.write(layer: layer, position: position, keys: keys, values: values)
            return
        }
        reserve(position + 1)
        let cb = quantizer.codeBytes, pc = quantizer.parameterCount
        for h in 0..<kvHeads {
            let i = (layer - spare) * kvHeads + h
            quantizer.quantize(keys + h * headDim, codes: keyCodes[i] + position * cb,
                               parameters: keyParameters[i] + position * pc)
            quantizer.quantize(values + h * headDim, codes: valueCodes[i] + position * cb,
                               parameters: valueParameters[i] + position * pc)
        }
        written = max(written, position + 1)
    }

    public func gather(layer: Int, kvHead: Int, positions: UnsafeBufferPointer<Int32>,
                       keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        if layer < spare {
            denseLayers!.gather(layer: layer, kvHead: kvHead, positions: positions, keys: keys, values: values)
            return
        }
        let i = (layer - spare) * kvHeads + kvHead
        let cb = quantizer.codeBytes, pc = quantizer.parameterCount
        let kc = keyCodes[i], vc = valueCodes[i], kp = keyParameters[i], vp = valueParameters[i]
        for (j, p) in positions.enumerated() {
            let r = Int(p)
            quantizer.dequantize(codes: kc + r * cb, parameters: kp + r * pc, into: keys + j * headDim)
            quantizer.dequantize(codes: vc + r * cb, parameters: vp + r * pc, into: values + j * headDim)
        }
    }

    public func dense(layer: Int, kvHead: Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>)? {
        layer < spare ? denseLayers!.dense(layer: layer, kvHead: kvHead) : nil
    }

    /// Copies the packed rows and parameters written so far (and the spared f32 layers).
    public func fork() throws -> KVStorage {
        let copy = QuantKVStorage(layers: layers, kvHeads: kvHeads, headDim: headDim, bits: quantizer.bits,
                                  group: quantizer.group, spare: spare, capacity: capacity)
        if let dense = denseLayers { copy.denseLayers = try dense.fork() as? DenseKVStorage }
        let rows = min(written, capacity)
        let cb = quantizer.codeBytes, pc = quantizer.parameterCount
        for i in keyCodes.indices {
            copy.keyCodes[i].update(from: keyCodes[i], count: rows * cb)
            copy.valueCodes[i].update(from: valueCodes[i], count: rows * cb)
            copy.keyParameters[i].update(from: keyParameters[i], count: rows * pc)
            copy.valueParameters[i].update(from: valueParameters[i], count: rows * pc)
        }
        copy.written = written
        return copy
    }
}
