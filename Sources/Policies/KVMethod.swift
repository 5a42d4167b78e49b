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
