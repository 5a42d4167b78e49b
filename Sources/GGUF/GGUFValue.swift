/// One metadata value. Arrays carry their element type so that empty arrays round-trip.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array(GGUFValueType, [GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// "string", "array of int32", ... for error messages.
    public var typeDescription: String {
        if case .array(let element, _) = self { return "array of \(element)" }
        return type.description
    }
}

// MARK: - Reading values

extension GGUFValue {
    /// Any integer type whose value fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// float32 or float64; integers are accepted too since some writers store e.g. a rope
    /// base as an integer.
    public var floatValue: Float? {
        switch self {
        case .float32(let v): v
        case .float64(let v): Float(v)
        default: intValue.map(Float.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(_, let values) = self { return values }
        return nil
    }
}

// MARK: - Building values (for GGUFWriter)

extension GGUFValue {
    /// An integer stored as ggml writers usually store counts: uint32 when it fits, else
    /// int32 for small negatives, else 64-bit.
    public static func int(_ v: Int) -> GGUFValue {
        if let u = UInt32(exactly: v) { return .uint32(u) }
        if let i = Int32(exactly: v) { return .int32(i) }
        return .int64(Int64(v))
    }

    public static func float(_ v: Float) -> GGUFValue { .float32(v) }

    public static func strings(_ values: [String]) -> GGUFValue {
        .array(.string, values.map { .string($0) })
    }

    /// int32 elements when every value fits (as tokenizer token types are stored), else int64.
    public static func ints(_ values: [Int]) -> GGUFValue {
        if values.allSatisfy({ Int32(exactly: $0) != nil }) {
            return .array(.int32, values.map { .int32(Int32($0)) })
        }
        return .array(.int64, values.map { .int64(Int64($0)) })
    }

    public static func floats(_ values: [Float]) -> GGUFValue {
        .array(.float32, values.map { .float32($0) })
    }
}
