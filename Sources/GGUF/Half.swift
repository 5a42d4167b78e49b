/// IEEE half and bfloat16 conversions for block scales and F16/BF16 tensors. Float16 maps to
/// F16C instructions with the package's haswell target.
@inline(__always)
func loadHalf(_ p: UnsafeRawPointer, _ byteOffset: Int) -> Float {
    Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self))))
}

@inline(__always)
func halfBits(_ x: Float) -> UInt16 {
    // Swift's Float -> Float16 rounds to nearest even, as ggml's GGML_FP32_TO_FP16 does.
    Float16(x).bitPattern
}

@inline(__always)
func bfloat16ToFloat(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

/// Round-to-nearest-even truncation to bfloat16, keeping NaNs quiet (as ggml does).
@inline(__always)
func bfloat16Bits(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: (u >> 16) | 64) }
    let rounded = u &+ (0x7FFF &+ ((u >> 16) & 1))
    return UInt16(truncatingIfNeeded: rounded >> 16)
}
