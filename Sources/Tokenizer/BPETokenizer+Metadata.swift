extension BPETokenizer {
    /// Builds a tokenizer from GGUF `tokenizer.ggml.*` values, checking that
    /// the model and pre-tokenizer are ones this implementation reproduces.
    /// - Parameters:
    ///   - model: `tokenizer.ggml.model` (must be "gpt2", byte-level BPE).
    ///   - pre: `tokenizer.ggml.pre` (e.g. "smollm"); nil is rejected because
    ///     llama.cpp's "default" BPE pre-tokenizer differs.
    public static func fromMetadata(model: String, pre: String?, tokens: [String], merges: [String],
                                    types: [Int32]?, bosID: Int?, eosID: Int?,
                                    unkID: Int?) throws -> BPETokenizer {
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model) }
        guard let pre, let kind = PreTokenizerKind(ggufName: pre) else {
            throw TokenizerError.unsupportedPreTokenizer(pre ?? "(absent)")
        }
        return try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: types,
                                bosID: bosID, eosID: eosID, unkID: unkID, preTokenizer: kind)
    }
}
