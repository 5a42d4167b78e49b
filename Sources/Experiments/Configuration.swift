import Report

/// The parameters of one experiment point. Deterministic: its canonical JSON has sorted
/// keys and fixed number formatting, so equal configurations hash equally everywhere.
public struct Configuration: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByDictionaryLiteral {
    public var parameters: [String: ParamValue]

    public init(_ parameters: [String: ParamValue] = [:]) {
        self.parameters = parameters
    }

    public init(dictionaryLiteral elements: (String, ParamValue)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public subscript(key: String) -> ParamValue? {
        get { parameters[key] }
        set { parameters[key] = newValue }
    }

    public var json: JSONValue { .object(parameters.mapValues(\.json)) }

    public init(json: JSONValue) throws {
        guard case .object(let members) = json else { throw ExperimentError("a configuration must be a JSON object") }
        parameters = try members.mapValues(ParamValue.init(json:))
    }

    /// Compact canonical JSON, e.g. `{"alpha":4.0,"layer":12}`.
    public var canonicalJSON: String { json.rendered(pretty: false) }

    /// Sorted `key=value` pairs, e.g. `alpha=4.0 layer=12`, for messages and diffs.
    public var label: String {
        parameters.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { "\($0)=\(parameters[$0]!)" }.joined(separator: " ")
    }

    public var description: String { label.isEmpty ? "(no parameters)" : label }

    // MARK: typed access with clear errors

    public func int(_ key: String) throws -> Int {
        guard case .int(let i)? = parameters[key] else { throw missing(key, "an integer") }
        return i
    }

    /// Accepts integer parameters too (alpha=4 means 4.0).
    public func double(_ key: String) throws -> Double {
        switch parameters[key] {
        case .double(let d)?: return d
        case .int(let i)?: return Double(i)
        default: throw missing(key, "a number")
        }
    }

    public func string(_ key: String) throws -> String {
        guard case .string(let s)? = parameters[key] else { throw missing(key, "a string") }
        return s
    }

    public func bool(_ key: String) throws -> Bool {
        guard case .bool(let b)? = parameters[key] else { throw missing(key, "a boolean") }
        return b
    }

    private func missing(_ key: String, _ kind: String) -> ExperimentError {
        if let value = parameters[key] { return ExperimentError("parameter '\(key)' is \(value), expected \(kind) (\(label))") }
        return ExperimentError("parameter '\(key)' missing from configuration (\(description))")
    }

    /// Non-finite numbers would make the canonical form ambiguous; refuse them.
    func validate() throws {
        for (key, value) in parameters {
            if case .double(let d) = value, !d.isFinite {
                throw ExperimentError("parameter '\(key)' is \(d); parameters must be finite")
            }
        }
    }
}
