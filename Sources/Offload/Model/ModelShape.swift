import Foundation

/// The dimensions of a decoder-only transformer that decide its cost; no
/// weights. Loaded from `Resources/models/<name>.json`.
public struct ModelShape: Codable, Sendable, Equatable {
    public enum MLPKind: String, Codable, Sendable {
        /// Two matrices (OPT: fc1, activation, fc2).
        case plain
        /// Three matrices (Llama: gate, up, down).
        case gated
        var matrices: Int { self == .plain ? 2 : 3 }
    }

    public enum Positional: String, Codable, Sendable {
        /// Learned absolute positions (OPT): skewing folds into W_q.
        case learned
        /// Rotary embeddings (Llama): the partial query needs the full
        /// rotated query first.
        case rotary
    }

    public var name: String
    public var family: String
    public var positional: Positional
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var ffn: Int
    public var vocab: Int
    public var mlp: MLPKind
    /// Input embedding and output head share one matrix.
    public var tiedEmbeddings: Bool
    /// Bytes per weight and per KV element (2 for fp16).
    public var bytesPerElement: Int
    /// Fraction of each layer's weight bytes resident on the device; the rest
    /// crosses the link every step (FlexGen-style placement).
    public var weightOnDeviceFraction: Double
    /// Optional storage sizes where they differ from `bytes_per_element` (the workbench
    /// engine keeps layer weights in Q4_1, the tied head in Q8_0, the KV cache and
    /// activations in f32). Absent: `bytes_per_element`.
    public var weightBytesPerElement: Double?
    /// Input embedding and output head; absent: the layer weights' size.
    public var headBytesPerElement: Double?
    /// KV cache and activations.
    public var kvBytesPerElement: Double?
    public var sources: [String: String]

    enum CodingKeys: String, CodingKey {
        case name, family, positional, layers, hidden, heads, ffn, vocab, mlp, sources
        case kvHeads = "kv_heads"
        case headDim = "head_dim"
        case bytesPerElement = "bytes_per_element"
        case tiedEmbeddings = "tied_embeddings"
        case weightOnDeviceFraction = "weight_on_device_fraction"
        case weightBytesPerElement = "weight_bytes_per_element"
        case headBytesPerElement = "head_bytes_per_element"
        case kvBytesPerElement = "kv_bytes_per_element"
    }

    public init(name: String, family: String, positional: Positional = .learned, layers: Int, hidden: Int, heads: Int, kvHeads: Int,
                headDim: Int, ffn: Int, vocab: Int, mlp: MLPKind, tiedEmbeddings: Bool = false, bytesPerElement: Int = 2,
                weightOnDeviceFraction: Double = 1, sources: [String: String] = [:]) {
        self.name = name
        self.family = family
        self.positional = positional
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ffn = ffn
        self.vocab = vocab
        self.mlp = mlp
        self.tiedEmbeddings = tiedEmbeddings
        self.bytesPerElement = bytesPerElement
        self.weightOnDeviceFraction = weightOnDeviceFraction
        self.sources = sources
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        family = try c.decode(String.self, forKey: .family)
        positional = try c.decode(Positional.self, forKey: .positional)
        layers = try c.decode(Int.self, forKey: .layers)
        hidden = try c.decode(Int.self, forKey: .hidden)
        heads = try c.decode(Int.self, forKey: .heads)
        kvHeads = try c.decode(Int.self, forKey: .kvHeads)
        headDim = try c.decode(Int.self, forKey: .headDim)
        ffn = try c.decode(Int.self, forKey: .ffn)
        vocab = try c.decode(Int.self, forKey: .vocab)
        mlp = try c.decode(MLPKind.self, forKey: .mlp)
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? false
        bytesPerElement = try c.decode(Int.self, forKey: .bytesPerElement)
        // Placement is optional in the file: everything on the device by default.
        weightOnDeviceFraction = try c.decodeIfPresent(Double.self, forKey: .weightOnDeviceFraction) ?? 1
        weightBytesPerElement = try c.decodeIfPresent(Double.self, forKey: .weightBytesPerElement)
        headBytesPerElement = try c.decodeIfPresent(Double.self, forKey: .headBytesPerElement)
        kvBytesPerElement = try c.decodeIfPresent(Double.self, forKey: .kvBytesPerElement)
        sources = try c.decodeIfPresent([String: String].self, forKey: .sources) ?? [:]
    }

    public func validate(file: String) throws {
        func fail(_ field: String, _ reason: String) -> OffloadError {
            .invalidModelShape(file: file, field: field, reason: reason)
        }
        if name.trimmingCharacters(in: .whitespaces).isEmpty { throw fail("name", "is empty") }
        let counts: [(String, Int)] = [("layers", layers), ("hidden", hidden), ("heads", heads),
                                       ("kv_heads", kvHeads), ("head_dim", headDim), ("ffn", ffn),
                                       ("vocab", vocab), ("bytes_per_element", bytesPerElement)]
        for (key, value) in counts where value <= 0 {
            throw fail(key, "must be a positive integer (got \(value))")
        }
        if heads % kvHeads != 0 { throw fail("kv_heads", "must divide heads (\(heads))") }
        for (key, value) in [("weight_bytes_per_element", weightBytesPerElement), ("head_bytes_per_element", headBytesPerElement),
                             ("kv_bytes_per_element", kvBytesPerElement)] {
            if let value, !(value.isFinite && value > 0) { throw fail(key, "must be a positive number (got \(value))") }
        }
        if !(weightOnDeviceFraction > 0 && weightOnDeviceFraction <= 1) {
            throw fail("weight_on_device_fraction", "must be in (0, 1] (got \(weightOnDeviceFraction))")
        }
    }

    public static var bundledNames: [String] { BundledData.names("models") }

    public static func load(named name: String) throws -> ModelShape {
        try load(from: BundledData.url("models", name: name))
    }

    public static func load(from url: URL) throws -> ModelShape {
        try decode(BundledData.read(url), file: url.lastPathComponent)
    }

    public static func decode(_ data: Data, file: String) throws -> ModelShape {
        let shape: ModelShape
        do { shape = try JSONDecoder().decode(ModelShape.self, from: data) } catch {
            let (field, reason) = DecodingDiagnosis.field(of: error)
            throw OffloadError.invalidModelShape(file: file, field: field, reason: reason)
        }
        try shape.validate(file: file)
        return shape
    }
}
