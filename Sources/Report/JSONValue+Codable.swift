import Foundation

extension JSONValue {
    /// Converts any Encodable to canonical JSON (via Foundation's encoder, then re-parsed).
    /// Foundation writes integral doubles without ".0", so values of Codable types may come
    /// back as `.int`; types that must keep the distinction convert to JSONValue by hand.
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            throw ReportError("cannot encode \(type(of: value)) as JSON: \(error)")
        }
        self = try JSONValue.parse(data)
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(T.self, from: data(pretty: false))
        } catch {
            throw ReportError("JSON does not describe a \(T.self): \(JSONValue.describe(error))")
        }
    }

    /// DecodingError descriptions are long; keep the path and the reason on one line.
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "top level" : p
        }
        switch error {
        case .keyNotFound(let key, let c): return "missing key '\(key.stringValue)' at \(path(c))"
        case .typeMismatch(let t, let c): return "expected \(t) at \(path(c))"
        case .valueNotFound(let t, let c): return "missing \(t) at \(path(c))"
        case .dataCorrupted(let c): return "\(c.debugDescription) at \(path(c))"
        @unknown default: return "\(error)"
        }
    }
}

/// JSONValue is Codable so it can sit inside Codable records (e.g. Provenance.config).
/// Decoding through Foundation cannot tell `4` from `4.0`; integral numbers come back as `.int`.
extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
