/// GGUF `tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).
public enum TokenType: Int32, Sendable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    /// Chat/control markers such as `<|im_start|>`: matched in text only on request.
    case control = 3
    /// Added tokens that always match whole in text and decode verbatim.
    case userDefined = 4
    case unused = 5
    case byte = 6
}
