import Foundation

/// One typed, range-checked parameter of a KV method.
public struct ParameterSpec: Sendable {
    public enum Kind: Sendable {
        case real(ClosedRange<Double>)
        case integer(ClosedRange<Int>)
        case choice([String])
        case flag
    }
    public let name: String
    public let kind: Kind
    public let defaultValue: ParameterValue
    public let help: String

    public init(_ name: String, _ kind: Kind, default defaultValue: ParameterValue, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// "0...1", "1...64", "fifo|lru|counter", "true|false".
    public var rangeDescription: String {
        switch kind {
        case let .real(r): return "\(ParameterValue.real(r.lowerBound))...\(ParameterValue.real(r.upperBound))"
        case let .integer(r): return "\(r.lowerBound)...\(r.upperBound)"
        case let .choice(c): return c.joined(separator: "|")
        case .flag: return "true|false"
        }
    }

    /// Parses and checks a value written as text.
    func parse(_ text: String, method: String) throws -> ParameterValue {
        let bad = PolicyError("\(method): parameter '\(name)' must be in \(rangeDescription) (got '\(text)')")
        switch kind {
        case let .real(r):
            guard let v = Double(text), v.isFinite, r.contains(v) else { throw bad }
            return .real(v)
        case let .integer(r):
            guard let v = Int(text), r.contains(v) else { throw bad }
            return .integer(v)
        case let .choice(c):
            guard c.contains(text) else { throw bad }
            return .text(text)
        case .flag:
            switch text { case "true", "1", "yes": return .flag(true)
            case "false", "0", "no": return .flag(false)
            default: throw bad }
        }
    }
}

public enum ParameterValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case real(Double), integer(Int), text(String), flag(Bool)

    public var description: String {
        switch self {
        case let .real(v):
            return v == v.rounded() && abs(v) < 1e15 ? String(format: "%.1f", v) : "\(v)"
        case let .integer(v): return "\(v)"
        case let .text(v): return v
        case let .flag(v): return v ? "true" : "false"
        }
    }
}

/// A method's parameters after parsing: every declared parameter has a value.
public struct ParameterValues: Sendable, Hashable {
    public private(set) var values: [String: ParameterValue]

    init(_ values: [String: ParameterValue]) { self.values = values }

    public func real(_ name: String) -> Double {
        switch values[name] { case let .real(v)?: return v; case let .integer(v)?: return Double(v)
        default: preconditionFailure("undeclared parameter \(name)") }
    }
    public func integer(_ name: String) -> Int {
        guard case let .integer(v)? = values[name] else { preconditionFailure("undeclared parameter \(name)") }
        return v
    }
    public func text(_ name: String) -> String {
        guard case let .text(v)? = values[name] else { preconditionFailure("undeclared parameter \(name)") }
        return v
    }
    public func flag(_ name: String) -> Bool {
        guard case let .flag(v)? = values[name] else { preconditionFailure("undeclared parameter \(name)") }
        return v
    }

    /// "alpha=4.0,budget=0.2" in parameter order.
    public func canonical(order: [ParameterSpec]) -> String {
        order.map { "\($0.name)=\(values[$0.name]!)" }.joined(separator: ",")
    }
}

public struct PolicyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
