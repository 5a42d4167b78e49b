/// Turns token ids arriving one at a time into text, for streaming generation.
///
/// A token can end in the middle of a multi-byte UTF-8 character (emoji are
/// often split over several byte tokens); those trailing bytes are held back
/// until the character is complete, so every returned piece is clean text and
/// the pieces concatenate to `decode(allIDs)`.
public struct StreamingDecoder: Sendable {
    public let tokenizer: BPETokenizer
    public let skipSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: BPETokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token; returns the text that became complete (possibly "").
    public mutating func push(_ id: Int) -> String {
        if skipSpecial, tokenizer.tokenType(id) == .control { return "" }
        tokenizer.appendBytes(of: id, to: &pending)
        let cut = Self.completePrefixLength(pending)
        if cut == 0 { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Flushes held-back bytes at the end of generation (incomplete ones become U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes held back waiting for the rest of a character.
    public var pendingByteCount: Int { pending.count }

    /// Length of the prefix that can be decoded now: everything except a trailing
    /// lead byte with fewer continuation bytes than it announces.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        var i = n - 1
        // Walk back over at most 3 continuation bytes to the last lead byte.
        while i >= 0, i >= n - 4, b[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0, i >= n - 4 else { return n }
        let lead = b[i]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: return n  // ASCII or an invalid lead: nothing to wait for
        }
        return n - i < need ? i : n
    }
}
