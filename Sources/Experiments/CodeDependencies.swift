/// The code an experiment's numbers depend on; its digest is the experiment's code version
/// (see `SourceDigests`). Selections err on the side of too much: an unrelated edit may
/// invalidate a result, a related one must.
public struct CodeDependencies: Sendable, Equatable {
    public enum Selection: Sendable, Equatable {
        case all
        /// Module names, or name prefixes of files under Sources/Experiments/Specs.
        case only([String])
        case allExcept([String])
    }

    /// Whole modules, with everything they depend on (and Package.swift, whose compiler
    /// flags change numbers, always).
    public var modules: Selection
    /// Files of Sources/Experiments/Specs, by name prefix. The other Experiments files
    /// (runner, cache, records, configurations) are always included.
    public var specFiles: Selection

    public init(modules: Selection, specFiles: Selection) {
        self.modules = modules
        self.specFiles = specFiles
    }

    /// Every module and file the binary is built from: the default.
    public static let everything = CodeDependencies(modules: .all, specFiles: .all)

    /// The engine experiments (accuracy, attention): the model, policies and evaluation,
    /// none of the offload simulator's code and none of the speed specs.
    public static let engine = CodeDependencies(modules: .only(["Evaluation", "Policies", "Model", "Report"]),
                                                specFiles: .allExcept(["Speed", "OffloadRun"]))

    /// The modeled speed experiments: the offload simulator with its bundled hardware
    /// profiles and model shapes, and every spec file but the engine experiments' (an
    /// exclusion list, so a new support file is included until someone excludes it); not
    /// the engine's policies.
    public static let modeledSpeed = CodeDependencies(
        modules: .only(["Offload", "Report"]),
        specFiles: .allExcept(["AccuracySupport", "ArtifactRuns", "Engine", "FewShotSupport", "Fig", "Motivation", "OffloadRun",
                               "PolicyQuality", "SpeculationQuality", "SpeedFig17", "SpeedSpeculationCounts", "Table2"]))
}
