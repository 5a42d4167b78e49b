import Foundation
import Report

/// One figure or table of the paper, described so that the runner can cache, shard,
/// summarize and report it. `run` must be a pure function of the configuration, the
/// input files and the code `codeDependencies` selects: those three make up the cache key.
public protocol ExperimentSpec: Sendable {
    /// Short stable name: "fig14", "table2". Used in file names and cache keys.
    var id: String { get }
    var title: String { get }
    var paperSetting: [Setting] { get }
    var ourSetting: [Setting] { get }
    /// Numbers the paper reports (or others reported for it); empty when none.
    var referenceValues: [ReferenceValue] { get }
    /// The sources and bundled data `run`'s numbers depend on (default: everything).
    var codeDependencies: CodeDependencies { get }
    /// Enters the cache key. Default: the build-time digest of `codeDependencies` (see
    /// `SourceDigests`), so results made by other code stop matching; never hand-written.
    var codeVersion: String { get }
    /// Files whose SHA-256 enters the cache key (model, data). Missing files are an error
    /// unless marked optional.
    func inputs() throws -> [InputFile]
    /// The inputs when the run's `artifacts/` directory matters (a measured file kept
    /// there); default: `inputs()`.
    func inputs(artifacts: URL) throws -> [InputFile]
    /// Makes the inputs that a run would otherwise create on the fly (a measured
    /// profile), before the cache keys are computed from them; default: nothing.
    func prepareInputs(_ context: RunContext) async throws
    func configurations(profile: RunProfile) -> [Configuration]
    func run(_ config: Configuration, context: RunContext) async throws -> ResultRecord
    /// Records arrive in `configurations(profile:)` order.
    func summarize(_ results: [ExperimentResult]) throws -> ExperimentOutput
    /// Tolerance used when writing a golden file for this value; nil leaves it out of the
    /// golden file (e.g. wall-clock timings).
    func goldenTolerance(for valueName: String, origin: Origin) -> Tolerance?
}

extension ExperimentSpec {
    public var referenceValues: [ReferenceValue] { [] }
    public func inputs() throws -> [InputFile] { [] }
    public func inputs(artifacts: URL) throws -> [InputFile] { try inputs() }
    public func prepareInputs(_ context: RunContext) async throws {}
    public var codeDependencies: CodeDependencies { .everything }
    public var codeVersion: String { SourceDigests.current.version(of: codeDependencies) }

    /// Default: modeled numbers are deterministic (tight tolerance); measured numbers
    /// get a small relative slack for BLAS summation-order differences.
    public func goldenTolerance(for valueName: String, origin: Origin) -> Tolerance? {
        origin == .modeled ? Tolerance(absolute: 1e-9, relative: 1e-9) : Tolerance(absolute: 1e-6, relative: 1e-4)
    }

    /// The paper's number for `quantity` (from `referenceValues`) set against ours.
    public func comparison(_ quantity: String, ours: Double, origin: Origin, note: String? = nil) -> Comparison {
        let reference = referenceValues.first { $0.quantity == quantity }
        return Comparison(quantity: quantity, unit: reference?.unit ?? "", paper: reference?.value, ours: ours,
                          origin: origin, note: note ?? reference?.source)
    }
}

/// A number published for the paper's setting.
public struct ReferenceValue: Sendable, Equatable, Codable {
    public var quantity: String
    public var value: Double
    public var unit: String
    /// Where it comes from, e.g. "paper fig. 14" or "third-party rerun (hardware unknown)".
    public var source: String

    public init(_ quantity: String, _ value: Double, unit: String = "", source: String) {
        self.quantity = quantity
        self.value = value
        self.unit = unit
        self.source = source
    }
}

/// A file an experiment reads; its digest makes results follow the file's content.
public struct InputFile: Sendable, Equatable {
    public var name: String
    public var url: URL
    /// A missing optional file enters the key as "absent" instead of failing the plan
    /// (e.g. a measured profile that the first run creates).
    public var optional: Bool

    public init(name: String, url: URL, optional: Bool = false) {
        self.name = name
        self.url = url
        self.optional = optional
    }
}

/// A value passes when |got - golden| <= absolute + relative * |golden|.
public struct Tolerance: Sendable, Equatable {
    public var absolute: Double
    public var relative: Double

    public init(absolute: Double, relative: Double = 0) {
        self.absolute = absolute
        self.relative = relative
    }

    public func accepts(golden: Double, got: Double) -> Bool {
        if golden.isNaN || got.isNaN { return golden.isNaN && got.isNaN }
        if golden.isInfinite || got.isInfinite { return golden == got }
        return abs(got - golden) <= absolute + relative * abs(golden)
    }

    /// "0.005" or "abs 1e-06, rel 0.0001".
    public var text: String {
        if relative == 0 { return absolute.description }
        if absolute == 0 { return "rel \(relative.description)" }
        return "abs \(absolute.description), rel \(relative.description)"
    }
}
