/// ggml tensor element types with ggml's numbering (ids 4, 5 and 31-33, 36-38 were removed
/// from ggml and are therefore unknown here).
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_XXS = 16, iq2_XS = 17, iq3_XXS = 18, iq1_S = 19, iq4_NL = 20
    case iq3_S = 21, iq2_S = 22, iq4_XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28
    case iq1_M = 29, bf16 = 30, tq1_0 = 34, tq2_0 = 35, mxfp4 = 39

    /// Number of elements encoded by one block.
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_NL, .mxfp4: 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K,
             .iq2_XXS, .iq2_XS, .iq3_XXS, .iq1_S, .iq3_S, .iq2_S, .iq4_XS, .iq1_M,
             .tq1_0, .tq2_0: 256
        }
    }

    /// Size in bytes of one block (ggml's `type_size`).
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .i8: 1
        case .i16: 2
        case .i32: 4
        case .i64, .f64: 8
        case .q4_0: 18      // f16 d, 16 nibble bytes
        case .q4_1: 20      // f16 d, f16 m, 16 nibble bytes
        case .q5_0: 22      // f16 d, u32 high bits, 16 nibble bytes
        case .q5_1: 24      // f16 d, f16 m, u32 high bits, 16 nibble bytes
        case .q8_0: 34      // f16 d, 32 int8
        case .q8_1: 36      // f16 d, f16 s, 32 int8
        case .q2_K: 84
        case .q3_K: 110
        case .q4_K: 144     // f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes
        case .q5_K: 176     // q4_K + 32 high-bit bytes
        case .q6_K: 210     // 128 low nibbles, 64 high 2-bit, 16 int8 scales, f16 d
        case .q8_K: 292     // f32 d, 256 int8, 16 int16 sums
        case .iq2_XXS: 66
        case .iq2_XS: 74
        case .iq3_XXS: 98
        case .iq1_S: 50
        case .iq4_NL: 18
        case .iq3_S: 110
        case .iq2_S: 82
        case .iq4_XS: 136
        case .iq1_M: 56
        case .tq1_0: 54
        case .tq2_0: 66
        case .mxfp4: 17
        }
    }

    /// ggml's spelling, e.g. "Q4_1", used in messages.
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2_K: "Q2_K"
        case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .q8_K: "Q8_K"
        case .iq2_XXS: "IQ2_XXS"
        case .iq2_XS: "IQ2_XS"
        case .iq3_XXS: "IQ3_XXS"
        case .iq1_S: "IQ1_S"
        case .iq4_NL: "IQ4_NL"
        case .iq3_S: "IQ3_S"
        case .iq2_S: "IQ2_S"
        case .iq4_XS: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1_M: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4: "MXFP4"
        }
    }

    public var description: String { name }
}
