/// The four classes the GPT-2 pre-tokenizer regex distinguishes:
/// `\p{L}`, `\p{N}`, `\s` and everything else.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 0x80 {
            self = ScalarClass.ascii[Int(scalar.value)]
        } else {
            self = ScalarClass.classify(scalar)
        }
    }

    /// `\s` is Unicode White_Space (as in Oniguruma, which HF tokenizers uses);
    /// `\p{L}` / `\p{N}` are the L* / N* general categories.
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let p = scalar.properties
        if p.isWhitespace { return .whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    static let ascii: [ScalarClass] = (0..<128).map { classify(Unicode.Scalar(UInt8($0))) }
}
