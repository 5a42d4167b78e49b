import Foundation

/// The artifact's KV quantization study (modeling_llama_orig.py, `enable_quant`):
/// asymmetric min-max per token, in groups along head_dim, quantized and immediately
/// dequantized in place: x' = delta·round((x - min)/delta·qmax)/qmax + min.
public enum FakeQuantizer {
    /// Quantizes `rows` rows of `width` values (stride `stride`) in groups of `group`.
    /// A constant group (delta 0) is left as it is (the artifact would divide by zero).
    public static func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int, bits: Int, group: Int) {
        precondition(width % group == 0)
        let qmax = Float((1 << bits) - 1)
        for r in 0..<rows {
            for g in Swift.stride(from: 0, to: width, by: group) {
                let p = x + r * stride + g
                var lo = p[0], hi = p[0]
                for i in 1..<group { lo = min(lo, p[i]); hi = max(hi, p[i]) }
                let delta = hi - lo
                guard delta > 0 else { continue }
                for i in 0..<group {
                    let q = ((p[i] - lo) / delta * qmax).rounded(.toNearestOrEven)
                    p[i] = delta * q / qmax + lo
                }
            }
        }
    }
}
