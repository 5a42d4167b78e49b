import Model

/// FlexGen with a low-bit KV cache: K and V are quantized when written (asymmetric
/// min-max, per token, in groups along head_dim; scale and min in fp16) and dequantized
/// when read, as in the artifact's accuracy study (8/4/2/1 bits, group 64, layers >= 2)
/// and its FlexGen + INT4 speedup baseline. Attention reads every position.
public final class QuantMethod: KVMethod {
    public static let name = "quant"
    public static let summary = "K/V stored as asymmetric min-max group quantization (default 4 bits, group 64 along head_dim, fp16 scale and min); reads everything"
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("bits", .choice(["8", "4", "2", "1"]), default: .text("4"),
                      help: "bits per K/V value (the artifact's accuracy study uses 8, 4, 2, 1)"),
        ParameterSpec("group", .choice(["8", "16", "32", "64", "128", "256"]), default: .text("64"),
                      help: "values per quantization group along head_dim; must divide head_dim (artifact: 64)"),
    ]

    let bits: Int
    let group: Int
    let spare: Int
    let config: LlamaConfig

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        bits = Int(parameters.text("bits"))!
        group = Int(parameters.text("group"))!
        spare = parameters.integer("spare")
        config = model.config
        guard config.headDim % group == 0 else {
            throw PolicyError("quant: parameter 'group' must divide the model's head_dim \(config.headDim) (got \(group))")
        }
    }

    public func makePolicy() -> KVPolicy { QuantPolicy(method: self) }

    final class QuantPolicy: KVPolicy {
        let name = QuantMethod.name
        let firstManagedLayer: Int
        let transfer: TransferCost
        private let method: QuantMethod

        init(method: QuantMethod) {
            self.method = method
            firstManagedLayer = method.spare
            // K and V rows cross packed, each with its fp16 scales and mins.
            let q = GroupQuantizer(bits: method.bits, group: method.group, rowLength: method.config.headDim)
            transfer = .rows(bytesPerRow: Double(2 * q.rowBytes), extraBytesPerStep: 0)
        }

        func makeStorage(config: LlamaConfig, capacity: Int) -> KVStorage {
            QuantKVStorage(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim,
                           bits: method.bits, group: method.group, spare: method.spare, capacity: capacity)
        }

        func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {}
    }
}

extension QuantMethod.QuantPolicy {
    /// The packed rows live in the storage (forked with the sequence); the policy keeps none.
    func fork() -> KVPolicy { QuantMethod.QuantPolicy(method: method) }
}

extension QuantMethod {
    public static var examples: PolicyExamples {
        .noBudget(["quant:bits=4", "quant:bits=2,group=32", "quant:bits=8,spare=0"], unbounded: nil,
                  reason: "reads every row, each stored lossily: no setting equals full")
    }
}
