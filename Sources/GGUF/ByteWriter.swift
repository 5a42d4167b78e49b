/// Little-endian GGUF encoding into a growing byte array (the inverse of ByteReader).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(string: String) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count))
        append(utf8)
    }

    mutating func pad(to alignment: Int) {
        let target = bytes.count.roundedUp(to: alignment)!
        bytes.append(contentsOf: repeatElement(0, count: target - bytes.count))
    }

    /// Type id followed by the payload.
    mutating func append(value: GGUFValue, key: String) throws {
        append(value.type.rawValue)
        try append(payloadOf: value, key: key)
    }

    private mutating func append(payloadOf value: GGUFValue, key: String) throws {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let s): append(string: s)
        case .array(let element, let values):
            append(element.rawValue)
            append(UInt64(values.count))
            for (i, v) in values.enumerated() {
                guard v.type == element else {
                    throw GGUFError(.invalidArgument, "GGUFWriter: metadata '\(key)' is an array of \(element) but element \(i) is \(v.typeDescription)")
                }
                try append(payloadOf: v, key: key)
            }
        }
    }
}
