import Model

/// StreamingLLM (Xiao et al., 2024): the first `sinks` tokens (attention sinks) plus a
/// window of the most recent cached tokens, together within one budget (`TokenBudget`,
/// rounded as every policy's): the window is the budget less the sinks. Stateless: the
/// same positions whether the run is teacher-forced or decoded.
public final class StreamingMethod: KVMethod {
    public static let name = "streaming"
    public static let summary = "attention sinks (default 4 first tokens) + recent window, together 0.2 of the sequence by default"
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("sinks", .integer(0...1_000_000), default: .integer(4),
                      help: "leading tokens always read (StreamingLLM's attention sinks), inside the budget"),
        ParameterSpec("budget", .real(0...1), default: .real(0.2),
                      help: "sinks + recent window as a fraction of the sequence (cached tokens, rounded up)"),
        ParameterSpec("budget-tokens", .integer(0...1_000_000), default: .integer(0),
                      help: "sinks + recent window in tokens (0: use 'budget')"),
    ]

    let sinks: Int
    /// Sinks and window together.
    let recent: TokenBudget
    let spare: Int
    let kvHeads: Int

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        sinks = parameters.integer("sinks")
        recent = TokenBudget(fraction: parameters.real("budget"), tokens: parameters.integer("budget-tokens"))
        spare = parameters.integer("spare")
        kvHeads = model.config.kvHeads
    }

    public func makePolicy() -> KVPolicy { StreamingPolicy(sinks: sinks, recent: recent, kvHeads: kvHeads, firstManagedLayer: spare) }
}

final class StreamingPolicy: KVPolicy {
    let name = StreamingMethod.name
    let selectsAhead = true
    let firstManagedLayer: Int
    private let sinks: Int
    private let recent: TokenBudget
    private let kvHeads: Int

    init(sinks: Int, recent: TokenBudget, kvHeads: Int, firstManagedLayer: Int) {
        self.sinks = sinks
        self.recent = recent
        self.kvHeads = kvHeads
        self.firstManagedLayer = firstManagedLayer
    }

    /// Positions `0..<s` and `t - (budget - s)..<t` with s = min(sinks, budget), ascending,
    /// or nil when that is all of them.
    static func positions(at t: Int, sinks: Int, budget: Int) -> [Int32]? {
        let s = min(sinks, budget, t), windowStart = max(s, t - (budget - s))
        if windowStart <= s { return nil }
        var list: [Int32] = []
        list.reserveCapacity(s + t - windowStart)
        for p in 0..<s { list.append(Int32(p)) }
        for p in windowStart..<t { list.append(Int32(p)) }
        return list
    }

    func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        let list = Self.positions(at: t, sinks: sinks, budget: recent.count(at: t))
        for h in 0..<kvHeads { selection.set(h, list) }
    }
}

extension StreamingPolicy {
    /// Stateless: the window depends on the position only.
    func fork() -> KVPolicy { StreamingPolicy(sinks: sinks, recent: recent, kvHeads: kvHeads, firstManagedLayer: firstManagedLayer) }
}

extension StreamingMethod {
    public static var examples: PolicyExamples {
        .budgeted([
            .init("streaming:sinks=2,budget-tokens=7") { min($0, 7) },
            .init("streaming:budget=0.25,spare=0") { PolicyExamples.ceilFraction(0.25, $0) },
        ], unbounded: "streaming:budget=1")
    }
}
