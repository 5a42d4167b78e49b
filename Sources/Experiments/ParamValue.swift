import Report

/// One experiment parameter. Ints and doubles stay distinct (`4` vs `4.0`) in the
/// canonical JSON, so a parameter's type is part of the cache key.
public enum ParamValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public var json: JSONValue {
        switch self {
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        }
    }

    public init(json: JSONValue) throws {
        switch json {
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        default: throw ExperimentError("a parameter must be a number, string or boolean, got \(json.rendered(pretty: false))")
        }
    }

    /// As written in labels and CSV cells: `12`, `0.2`, `h2o`, `true`.
    public var description: String {
        switch self {
        case .int(let i): return String(i)
        case .double(let d): return CSVTable.format(d)
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        }
    }
}

extension ParamValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
                      ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// Codable form is tagged (`{"double": 4.0}`) because Foundation's JSON coders cannot keep
/// `4.0` apart from `4`. Files written by the workbench use the canonical form instead.
extension ParamValue: Codable {
    private enum Tag: String, CodingKey { case int, double, string, bool }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Tag.self)
        guard let tag = c.allKeys.first, c.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                debugDescription: "a parameter is one of {\"int\"|\"double\"|\"string\"|\"bool\": value}"))
        }
        switch tag {
        case .int: self = .int(try c.decode(Int.self, forKey: tag))
        case .double: self = .double(try c.decode(Double.self, forKey: tag))
        case .string: self = .string(try c.decode(String.self, forKey: tag))
        case .bool: self = .bool(try c.decode(Bool.self, forKey: tag))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Tag.self)
        switch self {
        case .int(let i): try c.encode(i, forKey: .int)
        case .double(let d): try c.encode(d, forKey: .double)
        case .string(let s): try c.encode(s, forKey: .string)
        case .bool(let b): try c.encode(b, forKey: .bool)
        }
    }
}
