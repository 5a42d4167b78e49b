/// Byte-level BPE tokenizer (GPT-2 style) as used by SmolLM2.
///
/// Text is split into words by the pre-tokenizer, each word's UTF-8 bytes
/// become single-byte tokens, and the merge rules join them in rank order.
/// Immutable after construction and safe to share between tasks.
public final class BPETokenizer: Sendable {
    public let bosID: Int?
    public let eosID: Int?
    public let unkID: Int?
    public let preTokenizer: PreTokenizerKind

    private let tokens: [String]
    private let types: [TokenType]
    /// Lookup by UTF-8 bytes (String keys would merge canonically equivalent tokens).
    private let idsByBytes: [[UInt8]: Int32]
    /// Token id standing for each raw byte before any merge.
    private let byteTokenIDs: [Int32]
    private let merges: MergeTable
    private let splitter: PreTokenizer
    /// Matches user-defined tokens only / user-defined and control tokens.
    private let plainMatcher: SpecialTokenMatcher
    private let specialMatcher: SpecialTokenMatcher
    /// Decoded bytes of every token, flattened: token i is bytes[offsets[i]..<offsets[i+1]].
    private let decodedBytes: [UInt8]
    private let decodedOffsets: [Int]
    private let cache = WordCache()

    public var vocabularySize: Int { tokens.count }
    public var mergeCount: Int { merges.count }

    /// - Parameters:
    ///   - tokens: token strings in id order, byte-level spelled (GGUF `tokenizer.ggml.tokens`).
    ///   - merges: "left right" rules, highest priority first (`tokenizer.ggml.merges`).
    ///   - tokenTypes: GGUF token types (`tokenizer.ggml.token_type`); nil means all normal.
    public init(tokens: [String], merges: [String], tokenTypes: [Int32]? = nil,
                bosID: Int?, eosID: Int?, unkID: Int?,
                preTokenizer: PreTokenizerKind = .smollm) throws {
        guard !tokens.isEmpty else { throw TokenizerError.emptyVocabulary }
        if let t = tokenTypes, t.count != tokens.count {
            throw TokenizerError.tokenTypeCountMismatch(tokens: tokens.count, types: t.count)
        }
        for (name, id) in [("bos", bosID), ("eos", eosID), ("unk", unkID)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw TokenizerError.specialIDOutOfRange(name: name, id: id, vocabularySize: tokens.count)
            }
        }
        self.tokens = tokens
        self.bosID = bosID
        self.eosID = eosID
        self.unkID = unkID
        self.preTokenizer = preTokenizer
        self.splitter = PreTokenizer(kind: preTokenizer)
        let types = tokenTypes.map { $0.map { TokenType(rawValue: $0) ?? .undefined } }
            ?? Array(repeating: .normal, count: tokens.count)
        self.types = types

        // First id wins for a duplicated spelling, so merges resolve deterministically.
        var ids: [[UInt8]: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        for (i, t) in tokens.enumerated() where ids[Array(t.utf8)] == nil {
            ids[Array(t.utf8)] = Int32(i)
        }
        self.idsByBytes = ids

        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            if let id = ids[Array(String(ByteLevelMap.byteToScalar[b]).utf8)] {
                byteIDs[b] = id
            } else if let unkID {
                byteIDs[b] = Int32(unkID)
            } else {
                throw TokenizerError.missingByteToken(byte: UInt8(b))
            }
        }
        self.byteTokenIDs = byteIDs

        var table = MergeTable()
        for (rank, rule) in merges.enumerated() {
            let u = Array(rule.utf8)
            // Split at the first space after the first byte (as llama.cpp does).
            guard u.count >= 3, let sp = u[1...].firstIndex(of: 0x20), sp + 1 < u.count else {
                throw TokenizerError.malformedMerge(index: rank, merge: rule)
            }
            let left = Array(u[..<sp]), right = Array(u[(sp + 1)...])
            func id(_ bytes: [UInt8]) throws -> Int32 {
                guard let id = ids[bytes] else {
                    throw TokenizerError.mergeTokenMissing(index: rank, merge: rule,
                                                           token: String(decoding: bytes, as: UTF8.self))
                }
                return id
            }
            table.add(left: try id(left), right: try id(right), merged: try id(left + right), rank: rank)
        }
        self.merges = table

        var userDefined: [(text: String, id: Int32)] = []
        var control: [(text: String, id: Int32)] = []
        for (i, t) in types.enumerated() {
            if t == .userDefined { userDefined.append((tokens[i], Int32(i))) }
            if t == .control { control.append((tokens[i], Int32(i))) }
        }
        self.plainMatcher = SpecialTokenMatcher(userDefined)
        self.specialMatcher = SpecialTokenMatcher(userDefined + control)

        var flat: [UInt8] = []
        var offsets = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for (i, t) in tokens.enumerated() {
            // Control and user-defined tokens are stored as plain text, not byte-spelled.
            switch types[i] {
            case .control, .userDefined: flat.append(contentsOf: t.utf8)
            default: flat.append(contentsOf: ByteLevelMap.decode(t))
            }
            offsets.append(flat.count)
        }
        self.decodedBytes = flat
        self.decodedOffsets = offsets
    }

    // MARK: Encoding

    /// Token ids of `text`. No BOS is added (SmolLM2 does not add one).
    /// - Parameter parseSpecial: recognise control tokens such as `<|im_start|>`
    ///   written in the text as single tokens (for chat prompts); otherwise they
    ///   are tokenized like any other text.
    public func encode(_ text: String, parseSpecial: Bool = false) -> [Int] {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return [] }
        var out: [Int] = []
        out.reserveCapacity(bytes.count / 3 + 4)
        let matcher = parseSpecial ? specialMatcher : plainMatcher
        let pieces = matcher.isEmpty ? [.text(0..<bytes.count)] : matcher.partition(bytes)
        for piece in pieces {
            switch piece {
            case let .special(id):
                out.append(Int(id))
            case let .text(range):
                for word in splitter.split(bytes, range) {
                    for id in encodeWord(Array(bytes[word])) { out.append(Int(id)) }
                }
            }
        }
        return out
    }

    private func encodeWord(_ word: [UInt8]) -> [Int32] {
        if let hit = cache.get(word) { return hit }
        let ids = merges.apply(word.map { byteTokenIDs[Int($0)] })
        cache.set(word, ids)
        return ids
    }

    // MARK: Decoding

    /// Raw bytes a token stands for; an id outside the vocabulary yields the
    /// UTF-8 of U+FFFD so bad ids show up in text instead of crashing.
    public func tokenBytes(_ id: Int) -> [UInt8] {
        guard id >= 0, id < tokens.count else { return [0xEF, 0xBF, 0xBD] }
        return Array(decodedBytes[decodedOffsets[id]..<decodedOffsets[id + 1]])
    }

    /// Text of a token sequence. Byte sequences that are not valid UTF-8 (a
    /// multi-byte character cut off) become U+FFFD.
    /// - Parameter skipSpecial: drop control tokens (`<|im_end|>`, ...).
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            if skipSpecial, tokenType(id) == .control { continue }
            appendBytes(of: id, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func appendBytes(of id: Int, to bytes: inout [UInt8]) {
        if id >= 0, id < tokens.count {
            bytes.append(contentsOf: decodedBytes[decodedOffsets[id]..<decodedOffsets[id + 1]])
        } else {
            bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
        }
    }

    // MARK: Vocabulary

    /// The vocabulary string of a token (byte-level spelled for normal tokens).
    public func tokenText(_ id: Int) -> String? {
        (0..<tokens.count).contains(id) ? tokens[id] : nil
    }

    /// Id of a token by its vocabulary string, e.g. `id(of: "<|im_end|>")`.
    public func id(of token: String) -> Int? {
        idsByBytes[Array(token.utf8)].map(Int.init)
    }

    public func tokenType(_ id: Int) -> TokenType? {
        (0..<types.count).contains(id) ? types[id] : nil
    }
}
