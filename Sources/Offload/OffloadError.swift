import Foundation

/// Every failure of the offload module, each rendered as one line that names
/// the file or field at fault.
public enum OffloadError: Error, CustomStringConvertible, Equatable, Sendable {
    case invalidProfile(file: String, field: String, reason: String)
    case invalidModelShape(file: String, field: String, reason: String)
    case notFound(kind: String, name: String, available: [String])
    case unknownSchedule(name: String, available: [String])
    case invalidWorkload(String)
    case invalidReads(String)
    case invalidOptions(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidProfile(file, field, reason):
            return "hardware profile \(file): field '\(field)' \(reason)"
        case let .invalidModelShape(file, field, reason):
            return "model shape \(file): field '\(field)' \(reason)"
        case let .notFound(kind, name, available):
            return "no \(kind) named '\(name)' (available: \(available.joined(separator: ", ")))"
        case let .unknownSchedule(name, available):
            return "unknown schedule '\(name)' (available: \(available.joined(separator: ", ")))"
        case let .invalidWorkload(reason):
            return "invalid workload: \(reason)"
        case let .invalidReads(reason):
            return "invalid token reads: \(reason)"
        case let .invalidOptions(reason):
            return "invalid schedule options: \(reason)"
        case let .io(path, reason):
            return "\(path): \(reason)"
        }
    }
}

extension OffloadError: LocalizedError {
    public var errorDescription: String? { description }
}
