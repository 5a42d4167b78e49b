import Report

/// Every experiment the workbench knows, in the order `list` and `reproduce` use.
public enum Catalog {
    public static let specs: [any ExperimentSpec] = [
        MotivationSpec(),
        SpeedFig14Spec(),
        SpeedWhatIfSpec(),
        SpeedFig15Spec(),
        SpeedFig16aSpec(),
        SpeedFig16bSpec(),
        SpeedSpeculationCountsSpec(),
        SpeedFig17Spec(),
        OffloadRunSpec(),
        Fig11Spec(),
        Fig13Spec(),
        Fig17AccuracySpec(),
        PolicyQualitySpec(),
        Fig12Spec(),
        Table2Spec(),
        Fig4Spec(),
        SpeculationQualitySpec(),
    ]

    public static func registerAll(in registry: ExperimentRegistry = .shared) throws {
        for spec in specs where (try? registry.spec(spec.id)) == nil { try registry.register(spec) }
    }
}
