import Model

/// FlexGen as the artifact runs it: weights on the GPU, the whole KV cache in host memory,
/// and every decode step moves each layer's entire KV to the GPU. Attention reads every
/// position, so the numbers equal `full`; only the transfer cost differs.
public final class FlexGenMethod: KVMethod {
    public static let name = "flexgen"
    public static let summary = "KV cache offloaded to the host; every step moves each layer's whole KV at fp16 (numerically = full)"
    public static let parameters: [ParameterSpec] = []

    private let spare: Int

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        spare = parameters.integer("spare")
    }

    public func makePolicy() -> KVPolicy { FlexGenPolicy(firstManagedLayer: spare) }

    final class FlexGenPolicy: KVPolicy {
        let name = FlexGenMethod.name
        let firstManagedLayer: Int
        /// Every row read crosses at fp16 (K and V: 4·headDim bytes).
        let transfer = TransferCost.rows(bytesPerRow: nil, extraBytesPerStep: 0)
        let selectsAhead = true
        init(firstManagedLayer: Int) { self.firstManagedLayer = firstManagedLayer }
        func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {}
    }
}

extension FlexGenMethod.FlexGenPolicy {
    /// Stateless.
    func fork() -> KVPolicy { FlexGenMethod.FlexGenPolicy(firstManagedLayer: firstManagedLayer) }
}

extension FlexGenMethod {
    public static var examples: PolicyExamples {
        .noBudget(["flexgen:spare=0"], unbounded: "flexgen", reason: "moves and reads every row (only its transfer cost differs from full)")
    }
}
