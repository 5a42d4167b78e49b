import Foundation

/// Asymmetric min-max quantization of one row in groups along the row, as the artifact's
/// accuracy path does for K and V (per token, group 64 along head_dim): per group
/// `scale = (max - min) / (2^bits - 1)`, `q = round((x - min) / scale)` clamped to
/// `0...2^bits - 1`, and `x̂ = q · scale + min`. Scale and min are kept as Float16, as an
/// fp16 system stores them; codes are packed `8 / bits` to a byte, low bits first.
struct GroupQuantizer: Sendable, Equatable {
    let bits: Int
    let group: Int
    let rowLength: Int

    /// - Precondition: bits in {1, 2, 4, 8}; `group` divides `rowLength`.
    init(bits: Int, group: Int, rowLength: Int) {
        precondition([1, 2, 4, 8].contains(bits) && group > 0 && rowLength % group == 0)
        self.bits = bits
        self.group = group
        self.rowLength = rowLength
    }

    var levels: Int { (1 << bits) - 1 }
    var groups: Int { rowLength / group }
    /// Packed code bytes per row.
    var codeBytes: Int { (rowLength * bits + 7) / 8 }
    /// Float16 values per row: a scale and a min per group.
    var parameterCount: Int { 2 * groups }
    /// Bytes one quantized row occupies (codes plus fp16 scales and mins).
    var rowBytes: Int { codeBytes + 2 * parameterCount }

    /// Quantizes `x[0..<rowLength]` into `codes[0..<codeBytes]` and
    /// `parameters[0..<parameterCount]` (scale, min per group).
    func quantize(_ x: UnsafePointer<Float>, codes: UnsafeMutablePointer<UInt8>,
                  parameters: UnsafeMutablePointer<Float16>) {
        codes.update(repeating: 0, count: codeBytes)
        let top = Float(levels)
        for g in 0..<groups {
            let v = x + g * group
            var lo = v[0], hi = v[0]
            for i in 1..<group { lo = min(lo, v[i]); hi = max(hi, v[i]) }
            // Store first, then quantize against the stored (fp16) values so that
            // dequantization sees exactly the grid the codes were chosen on.
            let scale16 = Float16((hi - lo) / top), min16 = Float16(lo)
            parameters[2 * g] = scale16
            parameters[2 * g + 1] = min16
            let scale = Float(scale16), mn = Float(min16)
            let inv: Float = scale > 0 ? 1 / scale : 0
            for i in 0..<group {
                let q = ((v[i] - mn) * inv).rounded(.toNearestOrEven)   // as torch.round
                let code = UInt8(max(0, min(top, q.isFinite ? q : 0)))
                let index = g * group + i
                let bit = index * bits
                codes[bit >> 3] |= code << UInt8(bit & 7)
            }
        }
    }

    /// Writes `rowLength` dequantized values to `out`.
    @inline(__always)
    func dequantize(codes: UnsafePointer<UInt8>, parameters: UnsafePointer<Float16>,
                    into out: UnsafeMutablePointer<Float>) {
        for g in 0..<groups {
            let scale = Float(parameters[2 * g]), mn = Float(parameters[2 * g + 1])
            let o = out + g * group
            let first = g * group
            switch bits {
            case 8:
                let c = codes + first
                for i in 0..<group { o[i] = Float(c[i]) * scale + mn }
            case 4:
                // Groups of an even length start on a byte boundary.
                if group & 1 == 0 {
                    let c = codes + first / 2
                    for i in 0..<(group / 2) {
                        let b = c[i]
                        o[2 * i] = Float(b & 0x0F) * scale + mn
                        o[2 * i + 1] = Float(b >> 4) * scale + mn
                    }
                } else {
                    generic(codes, first, o, scale, mn)
                }
            default:
                generic(codes, first, o, scale, mn)
            }
        }
    }

    @inline(__always)
    private func generic(_ codes: UnsafePointer<UInt8>, _ first: Int, _ o: UnsafeMutablePointer<Float>,
                         _ scale: Float, _ mn: Float) {
        let mask = UInt8(levels)
        for i in 0..<group {
            let bit = (first + i) * bits
            let code = (codes[bit >> 3] >> UInt8(bit & 7)) & mask
            o[i] = Float(code) * scale + mn
        }
    }
}
