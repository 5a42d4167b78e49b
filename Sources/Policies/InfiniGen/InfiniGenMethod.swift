import Foundation
import Model

/// InfiniGen (Lee et al., OSDI 2024): speculate the next layer's important tokens from
/// the current layer's input with skewed partial weights, fetch only those from a host
/// KV pool. The skewing calibration runs once per model and calibration text (shared
/// through `SkewingCache`); each sequence gets its own `InfiniGenPolicy`.
public final class InfiniGenMethod: KVMethod {
    public static let name = "infinigen"
    public static let summary = "speculates next-layer attention from skewed partial Q/K; fetches tokens above max - alpha from a host pool"
    public static let parameters: [ParameterSpec] = InfiniGenSettings.parameters

    public let settings: InfiniGenSettings
    public let calibration: SkewingCalibration
    let plan: InfiniGenPlan
    private let model: LlamaModel

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        settings = try InfiniGenSettings(parameters, layers: model.config.layers)
        let tokens = try context.calibrationTokens()
        if let bad = tokens.first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
            throw PolicyError("infinigen: calibration token id \(bad) is outside the vocabulary")
        }
        calibration = try SkewingCache.calibration(model: model, tokens: tokens)
        plan = InfiniGenPlan(settings: settings, model: model, calibration: calibration)
        self.model = model
    }

    /// The partial columns of one (layer, KV head), ascending.
    public func partialColumns(layer: Int, kvHead: Int) -> [Int] {
        plan.columns[layer * model.config.kvHeads + kvHead]
    }

    public func makePolicy() -> KVPolicy { InfiniGenPolicy(model: model, plan: plan) }
}

extension InfiniGenMethod {
    public static var examples: PolicyExamples {
        // The cap is the shared budget rounding (TokenBudget) of the t earlier positions, and max-kv per KV head.
        .budgeted([
            .init("infinigen:alpha=2,max-kv=5") { min($0, 5) },
            .init("infinigen:alpha=4,budget=0.25,count=per-head") { PolicyExamples.ceilFraction(0.25, $0) },
            .init("infinigen:alpha=3,budget=0.3,pool=0.5,eviction=lru,spare=1") { PolicyExamples.ceilFraction(0.3, $0) },
            .init("infinigen:alpha=3,budget=0.3,pool=0.6,eviction=counter,skew=false") { PolicyExamples.ceilFraction(0.3, $0) },
        ], unbounded: "infinigen:alpha=100,budget=0")
    }
}
