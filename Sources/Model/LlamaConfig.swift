import GGUF

/// Shape and hyper-parameters of a Llama-family model, read from GGUF metadata.
public struct LlamaConfig: Codable, Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffnSize: Int
    public var rmsEps: Float
    public var ropeBase: Float
    public var contextLength: Int
    public var tiedOutput: Bool

    public init(vocabSize: Int, hiddenSize: Int, layers: Int, heads: Int, kvHeads: Int, headDim: Int,
                ffnSize: Int, rmsEps: Float = 1e-5, ropeBase: Float = 10000, contextLength: Int = 2048,
                tiedOutput: Bool = true) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffnSize = ffnSize
        self.rmsEps = rmsEps
        self.ropeBase = ropeBase
        self.contextLength = contextLength
        self.tiedOutput = tiedOutput
    }

    /// Query heads that share one KV head.
    public var groupSize: Int { heads / kvHeads }
    public var qDim: Int { heads * headDim }
    public var kvDim: Int { kvHeads * headDim }

    public init(gguf: GGUFFile) throws {
        let arch = try gguf.string("general.architecture")
        guard arch == "llama" else {
            throw ModelError("unsupported architecture '\(arch)': only Llama-family GGUF models are supported")
        }
        let p = "llama."
        hiddenSize = try gguf.int(p + "embedding_length")
        layers = try gguf.int(p + "block_count")
        heads = try gguf.int(p + "attention.head_count")
        kvHeads = (try? gguf.int(p + "attention.head_count_kv")) ?? heads
        headDim = (try? gguf.int(p + "attention.key_length")) ?? (heads > 0 ? hiddenSize / heads : 0)
        ffnSize = try gguf.int(p + "feed_forward_length")
        rmsEps = (try? gguf.float(p + "attention.layer_norm_rms_epsilon")) ?? 1e-5
        ropeBase = (try? gguf.float(p + "rope.freq_base")) ?? 10000
        contextLength = (try? gguf.int(p + "context_length")) ?? 2048
        let embd = gguf.tensor(named: "token_embd.weight")
        vocabSize = (try? gguf.int(p + "vocab_size")) ?? embd?.dims.last ?? 0
        tiedOutput = gguf.tensor(named: "output.weight") == nil
        try validate()
    }

    public func validate() throws {
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw ModelError("invalid model configuration: \(what)") } }
        try check(hiddenSize > 0 && hiddenSize <= 1 << 16, "embedding_length \(hiddenSize)")
        try check(layers > 0 && layers <= 512, "block_count \(layers)")
        try check(heads > 0 && kvHeads > 0 && heads % kvHeads == 0, "head_count \(heads) / head_count_kv \(kvHeads)")
        try check(headDim > 0 && headDim % 2 == 0 && headDim <= 1024, "head dimension \(headDim)")
        try check(ffnSize > 0 && ffnSize <= 1 << 18, "feed_forward_length \(ffnSize)")
        try check(vocabSize > 0 && vocabSize <= 1 << 22, "vocabulary size \(vocabSize)")
        try check(rmsEps > 0 && rmsEps < 1, "rms epsilon \(rmsEps)")
        try check(ropeBase > 1, "rope base \(ropeBase)")
    }
}

/// A one-line, user-facing error from the model layer.
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
