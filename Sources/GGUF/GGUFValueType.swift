/// The 13 metadata value types of the GGUF format, with the format's numbering.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5
    case float32 = 6, bool = 7, string = 8, array = 9
    case uint64 = 10, int64 = 11, float64 = 12

    /// Fewest bytes one value of this type can occupy in a file. Used to reject counts that
    /// could not possibly fit in what is left of the file before allocating anything.
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string: 8             // u64 length, possibly empty
        case .array: 12             // u32 element type + u64 count
        }
    }

    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }
}
