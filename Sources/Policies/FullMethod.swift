import Model

/// Everything resident, every position read: the accuracy reference.
public final class FullMethod: KVMethod {
    public static let name = "full"
    public static let summary = "full KV cache resident on the device; attention reads every position (reference)"
    public static let parameters: [ParameterSpec] = []

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {}

    public func makePolicy() -> KVPolicy { FullPolicy() }

    final class FullPolicy: KVPolicy {
        let name = FullMethod.name
        let transfer = TransferCost.resident
        func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {}
    }
}

extension FullMethod.FullPolicy {
    /// Stateless.
    func fork() -> KVPolicy { FullMethod.FullPolicy() }
}

extension FullMethod {
    public static var examples: PolicyExamples {
        .noBudget(["full", "full:spare=0"], unbounded: "full", reason: "the reference: reads every row")
    }
}
