/// Why a vocabulary could not be turned into a tokenizer.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    case emptyVocabulary
    case tokenTypeCountMismatch(tokens: Int, types: Int)
    case malformedMerge(index: Int, merge: String)
    case mergeTokenMissing(index: Int, merge: String, token: String)
    case missingByteToken(byte: UInt8)
    case specialIDOutOfRange(name: String, id: Int, vocabularySize: Int)
    case unsupportedModel(String)
    case unsupportedPreTokenizer(String)

    public var description: String {
        switch self {
        case .emptyVocabulary:
            return "tokenizer: the vocabulary is empty"
        case let .tokenTypeCountMismatch(tokens, types):
            return "tokenizer: \(types) token types for \(tokens) tokens"
        case let .malformedMerge(index, merge):
            return "tokenizer: merge #\(index) \(merge.debugDescription) is not two tokens separated by one space"
        case let .mergeTokenMissing(index, merge, token):
            return "tokenizer: merge #\(index) \(merge.debugDescription) needs token \(token.debugDescription), which is not in the vocabulary"
        case let .missingByteToken(byte):
            return "tokenizer: byte-level vocabulary has no token for byte 0x\(String(byte, radix: 16)) and no unknown token"
        case let .specialIDOutOfRange(name, id, size):
            return "tokenizer: \(name) id \(id) is outside the vocabulary (size \(size))"
        case let .unsupportedModel(model):
            return "tokenizer: model \(model.debugDescription) is not supported (only byte-level BPE, \"gpt2\")"
        case let .unsupportedPreTokenizer(pre):
            return "tokenizer: pre-tokenizer \(pre.debugDescription) is not supported"
        }
    }
}
