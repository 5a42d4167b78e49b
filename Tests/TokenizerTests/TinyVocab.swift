@testable import Tokenizer

/// Hand-made byte-level vocabularies for tests that need no model file.
enum TinyVocab {
    /// The 256 single-byte tokens in byte order (ids 0...255), GPT-2 spelled.
    static let byteTokens: [String] = ByteLevelMap.byteToScalar.map { String($0) }

    /// Byte tokens plus `extra` appended, with the given merges.
    static func make(extra: [String], merges: [String], types extraTypes: [Int32]? = nil) throws -> BPETokenizer {
        let tokens = byteTokens + extra
        let types = extraTypes.map { Array(repeating: Int32(1), count: 256) + $0 }
        return try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: types,
                                bosID: nil, eosID: nil, unkID: nil)
    }
}
