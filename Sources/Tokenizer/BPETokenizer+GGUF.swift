import GGUF

extension BPETokenizer {
    /// The tokenizer stored in a GGUF file's `tokenizer.ggml.*` metadata.
    public static func from(gguf: GGUFFile) throws -> BPETokenizer {
        func optionalInt(_ key: String) -> Int? { gguf.metadata[key]?.intValue }
        let types = gguf.metadata["tokenizer.ggml.token_type"] == nil
            ? nil : try gguf.intArray("tokenizer.ggml.token_type").map { Int32(truncatingIfNeeded: $0) }
        return try BPETokenizer.fromMetadata(
            model: try gguf.string("tokenizer.ggml.model"),
            pre: gguf.metadata["tokenizer.ggml.pre"]?.stringValue,
            tokens: try gguf.stringArray("tokenizer.ggml.tokens"),
            merges: try gguf.stringArray("tokenizer.ggml.merges"),
            types: types,
            bosID: optionalInt("tokenizer.ggml.bos_token_id"),
            eosID: optionalInt("tokenizer.ggml.eos_token_id"),
            unkID: optionalInt("tokenizer.ggml.unknown_token_id"))
    }
}
