import Foundation
import Report

/// The experiments the executable knows, in registration order (which is also the
/// order of runs and report sections). The executable registers its specs at startup.
public final class ExperimentRegistry: @unchecked Sendable {
    public static let shared = ExperimentRegistry()

    private let lock = NSLock()
    private var specs: [any ExperimentSpec] = []
    private var _toolVersion = "0.1.0"
    private var _blas: Provenance.BLAS?

    public init() {}

    /// Registering an id twice is a programming error reported as a thrown error.
    public func register(_ spec: any ExperimentSpec) throws {
        try lock.withLock {
            guard !specs.contains(where: { $0.id == spec.id }) else {
                throw ExperimentError("experiment '\(spec.id)' registered twice")
            }
            guard !spec.id.isEmpty, spec.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ExperimentError("experiment id '\(spec.id)' must be letters, digits, '-' or '_'")
            }
            specs.append(spec)
        }
    }

    public var all: [any ExperimentSpec] { lock.withLock { specs } }
    public var ids: [String] { all.map(\.id) }

    public func spec(_ id: String) throws -> any ExperimentSpec {
        guard let spec = all.first(where: { $0.id == id }) else {
            let known = ids.isEmpty ? "none registered" : ids.joined(separator: ", ")
            throw ExperimentError("unknown experiment '\(id)'; known: \(known)")
        }
        return spec
    }

    /// The named specs in registry order, or all when `only` is nil or empty.
    public func select(_ only: [String]?) throws -> [any ExperimentSpec] {
        guard let only, !only.isEmpty else { return all }
        let wanted = Set(try only.map { try spec($0).id })
        return all.filter { wanted.contains($0.id) }
    }

    /// Recorded in every provenance block.
    public var toolVersion: String {
        get { lock.withLock { _toolVersion } }
        set { lock.withLock { _toolVersion = newValue } }
    }

    /// The BLAS in use (kernel name, threads), set by the executable for provenance.
    public var blas: Provenance.BLAS? {
        get { lock.withLock { _blas } }
        set { lock.withLock { _blas = newValue } }
    }
}
