import Foundation
import Model

/// A KV-cache management method as the registry knows it: a name, typed parameters, and
/// whatever it prepares once per model (InfiniGen's skewing matrices, say). It hands out
/// one `KVPolicy` per sequence, since policies keep per-sequence state.
public protocol KVMethod: AnyObject {
    static var name: String { get }
    static var summary: String { get }
    /// Declared parameters, without the common ones (`spare`).
    static var parameters: [ParameterSpec] { get }

    init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws

    /// A fresh policy for one sequence.
    func makePolicy() -> KVPolicy

    /// Example specs for the registry-driven test suite (see `PolicyExamples`).
    static var examples: PolicyExamples { get }
}

/// What a method may need besides the model, supplied lazily so that methods that do not
/// need it cost nothing.
public struct MethodContext: Sendable {
    /// Token ids of the calibration text (InfiniGen's offline skewing).
    public var calibrationTokens: @Sendable () throws -> [Int]

    public init(calibrationTokens: @escaping @Sendable () throws -> [Int] = {
        throw PolicyError("this method needs calibration text, and none was provided")
    }) {
        self.calibrationTokens = calibrationTokens
    }
}

/// Parameters every method takes.
public enum CommonParameters {
    /// The artifact spares layers 0 and 1 for every method: they read the full cache.
    public static let spare = ParameterSpec("spare", .integer(0...64), default: .integer(2),
                                            help: "leading layers that always read the full cache")
}

/// Example specs a method declares for the registry-driven test suite (every registered
/// method must: the suite fails for one that declares none).
public struct PolicyExamples: Sendable {
    /// A spec that reads a subset of the cache, and the most cached rows (per KV head) a
    /// query at position t may read under it.
    public struct Sparse: Sendable {
        public let spec: String
        public let rowLimit: @Sendable (Int) -> Int
        public init(_ spec: String, rowLimit: @escaping @Sendable (Int) -> Int) {
            self.spec = spec
            self.rowLimit = rowLimit
        }
    }

    /// Specs with a row budget.
    public var sparse: [Sparse]
    /// Specs without a per-position row limit (top-p, or a method with no budget at all).
    public var unbudgeted: [String]
    /// A spec under which the method reads every row losslessly, so it must equal `full`
    /// bit for bit; nil when none exists (say why in `note`).
    public var unbounded: String?
    /// Why the method has no budget or no unbounded setting, when it has none.
    public var note: String
    /// False only for the default of a method that declared nothing.
    public var declared: Bool

    /// A method with a row budget.
    public static func budgeted(_ sparse: [Sparse], unbudgeted: [String] = [], unbounded: String?,
                                note: String = "") -> PolicyExamples {
        PolicyExamples(sparse: sparse, unbudgeted: unbudgeted, unbounded: unbounded, note: note, declared: true)
    }

    /// A method that reads every row (no budget): `reason` says so.
    public static func noBudget(_ specs: [String], unbounded: String?, reason: String) -> PolicyExamples {
        PolicyExamples(sparse: [], unbudgeted: specs, unbounded: unbounded, note: reason, declared: true)
    }

    public static let undeclared = PolicyExamples(sparse: [], unbudgeted: [], unbounded: nil, note: "", declared: false)

    /// Every spec to exercise.
    public var specs: [String] { sparse.map(\.spec) + unbudgeted + (unbounded.map { [$0] } ?? []) }

    /// ⌈fraction · (t + 1)⌉: a budget given as a fraction of the sequence, rounded up.
    public static func ceilFraction(_ fraction: Double, _ t: Int) -> Int { Int((fraction * Double(t + 1)).rounded(.up)) }
}

public extension KVMethod {
    /// Methods override this; the default marks a method that has declared nothing.
    static var examples: PolicyExamples { .undeclared }
}
