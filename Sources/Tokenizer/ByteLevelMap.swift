/// GPT-2's reversible byte <-> character map.
///
/// Byte-level BPE vocabularies spell every byte as a printable character so that
/// token strings never contain raw control bytes or spaces: printable Latin-1
/// bytes map to themselves, the other 68 bytes to U+0100 onwards in byte order
/// (so the space 0x20 becomes "Ġ" U+0120, newline 0x0A becomes "Ċ" U+010A).
enum ByteLevelMap {
    /// Character (as a scalar) that spells each byte.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `byteToScalar`, indexed by scalar value (all are below 0x144).
    static let scalarToByte: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = Int16(b) }
        return table
    }()

    /// The byte a vocabulary character stands for, or nil when it is not a byte character.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < scalarToByte.count, scalarToByte[v] >= 0 else { return nil }
        return UInt8(scalarToByte[v])
    }

    /// Token text spelling the given raw bytes.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Raw bytes of a token text; characters outside the map keep their UTF-8 bytes.
    static func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars {
            if let b = byte(for: s) { out.append(b) } else { out.append(contentsOf: String(s).utf8) }
        }
        return out
    }
}
