/// Everything the header, metadata and tensor table say, checked against the file size.
struct GGUFLayout {
    var version: Int
    var metadata: [String: GGUFValue]
    var metadataKeys: [String]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int
}

/// Parses a GGUF byte range: header, metadata, tensor table. Every count, length and
/// offset is checked against the bytes that exist before it is used.
struct GGUFParser {
    static let defaultAlignment = 32
    static let maxDims = 4
    /// Nesting limit for arrays of arrays: deeper files are rejected rather than recursed
    /// into (a hostile file could otherwise nest until the stack overflows).
    static let maxArrayDepth = 8
    /// Counts are already capped by the bytes left, but a parsed value takes more memory than
    /// its encoding, so up-front reservations are capped too: storage then grows only as
    /// elements are actually read.
    static let maxReservation = 1 << 16
    /// Smallest possible metadata entry: empty key (u64 length), value type, one-byte value.
    static let minimumKVBytes = 8 + 4 + 1
    /// Smallest possible tensor info: empty name, n_dims, one dim, type, offset.
    static let minimumTensorInfoBytes = 8 + 4 + 8 + 4 + 8

    private var reader: ByteReader
    private var file: String { reader.fileName }

    init(base: UnsafeRawPointer, count: Int, fileName: String) {
        reader = ByteReader(base: base, count: count, fileName: fileName)
    }

    mutating func parse() throws -> GGUFLayout {
        let version = try header()
        let tensorCount = try reader.count("tensor count", unit: Self.minimumTensorInfoBytes)
        let kvCount = try reader.count("metadata count", unit: Self.minimumKVBytes)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        metadata.reserveCapacity(min(kvCount, Self.maxReservation))
        keys.reserveCapacity(min(kvCount, Self.maxReservation))
        for index in 0..<kvCount {
            let key = try reader.string("metadata key \(index)")
            guard metadata[key] == nil else {
                throw GGUFError(.invalid, "\(file): duplicate metadata key '\(key)' (entry \(index))")
            }
            let value = try value(of: try valueType("metadata '\(key)'"), depth: 0, "metadata '\(key)'")
            metadata[key] = value
            keys.append(key)
        }
        let alignment = try Self.alignment(in: metadata, file: file)

        guard tensorCount <= reader.remaining / Self.minimumTensorInfoBytes else {
            throw reader.truncated("tensor table (\(tensorCount) tensors)",
                                   needing: UInt64(tensorCount) * UInt64(Self.minimumTensorInfoBytes))
        }
        var raw: [RawTensorInfo] = []
        raw.reserveCapacity(min(tensorCount, Self.maxReservation))
        for index in 0..<tensorCount {
            raw.append(try tensorInfo(index))
        }

        // The data section starts at the next multiple of the alignment; with no tensors a
        // file may legitimately end before that padding.
        let dataOffset = reader.position.roundedUp(to: alignment) ?? Int.max
        var names = Set<String>()
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(raw.count)
        for info in raw {
            guard names.insert(info.name).inserted else {
                throw GGUFError(.invalid, "\(file): duplicate tensor name '\(info.name)'")
            }
            tensors.append(try validate(info, alignment: alignment, dataOffset: dataOffset))
        }
        return GGUFLayout(version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
                          alignment: alignment, dataOffset: dataOffset)
    }

    // MARK: Header

    private mutating func header() throws -> Int {
        let magicBytes = try reader.take(4, "magic")
        let magic = UnsafeRawBufferPointer(start: magicBytes, count: 4)
        guard magic.elementsEqual("GGUF".utf8) else {
            let hex = magic.map { String($0, radix: 16) }.joined(separator: " ")
            throw GGUFError(.badMagic, "\(file): not a GGUF file: magic bytes are \(hex) (expected 47 47 55 46, 'GGUF')")
        }
        let version = try reader.u32("version")
        guard version == 2 || version == 3 else {
            let hint = version == 1 ? " (GGUF v1 is obsolete)"
                : version.byteSwapped <= 3 ? " (big-endian GGUF files are not supported)" : ""
            throw GGUFError(.unsupportedVersion, "\(file): unsupported GGUF version \(version)\(hint); versions 2 and 3 are supported")
        }
        return Int(version)
    }

    // MARK: Metadata values

    private mutating func valueType(_ what: @autoclosure () -> String) throws -> GGUFValueType {
        let raw = try reader.u32(what())
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError(.unknownType, "\(file): \(what()) has unknown value type \(raw) at byte \(reader.position - 4)")
        }
        return type
    }

    private mutating func value(of type: GGUFValueType, depth: Int,
                                _ what: @autoclosure () -> String) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, what()))
        case .int8: return .int8(try reader.read(Int8.self, what()))
        case .uint16: return .uint16(try reader.read(UInt16.self, what()))
        case .int16: return .int16(try reader.read(Int16.self, what()))
        case .uint32: return .uint32(try reader.read(UInt32.self, what()))
        case .int32: return .int32(try reader.read(Int32.self, what()))
        case .uint64: return .uint64(try reader.read(UInt64.self, what()))
        case .int64: return .int64(try reader.read(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try reader.read(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try reader.read(UInt64.self, what())))
        case .bool: return .bool(try reader.read(UInt8.self, what()) != 0)
        case .string: return .string(try reader.string(what()))
        case .array:
            guard depth < Self.maxArrayDepth else {
                throw GGUFError(.invalid, "\(file): \(what()) nests arrays more than \(Self.maxArrayDepth) deep")
            }
            let element = try valueType("\(what()) element type")
            let count = try reader.count("\(what()) element count", unit: element.minimumEncodedSize)
            var values: [GGUFValue] = []
            values.reserveCapacity(min(count, Self.maxReservation))
            for i in 0..<count {
                values.append(try value(of: element, depth: depth + 1, "\(what()) element \(i)"))
            }
            return .array(element, values)
        }
    }

    static func alignment(in metadata: [String: GGUFValue], file: String) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let a = value.intValue, a > 0, a & (a - 1) == 0, a <= 1 << 30 else {
            throw GGUFError(.invalid, "\(file): general.alignment must be a power of two integer, got \(value)")
        }
        return a
    }

    // MARK: Tensor table

    private struct RawTensorInfo {
        var index: Int
        var name: String
        var dims: [UInt64]
        var typeID: UInt32
        var relativeOffset: UInt64
    }

    private mutating func tensorInfo(_ index: Int) throws -> RawTensorInfo {
        let name = try reader.string("tensor info \(index) name")
        let label = "tensor info \(index) ('\(name)')"
        let nDims = try reader.u32("\(label) dimension count")
        guard (1...UInt32(Self.maxDims)).contains(nDims) else {
            throw GGUFError(.invalid, "\(file): tensor '\(name)' has \(nDims) dimensions (1 to \(Self.maxDims) supported)")
        }
        var dims: [UInt64] = []
        for d in 0..<Int(nDims) {
            dims.append(try reader.u64("\(label) dimension \(d)"))
        }
        let typeID = try reader.u32("\(label) type")
        let offset = try reader.u64("\(label) offset")
        return RawTensorInfo(index: index, name: name, dims: dims, typeID: typeID, relativeOffset: offset)
    }

    private func validate(_ raw: RawTensorInfo, alignment: Int, dataOffset: Int) throws -> GGUFTensorInfo {
        let name = raw.name
        guard let type = GGMLType(rawValue: raw.typeID) else {
            throw GGUFError(.unknownType, "\(file): tensor '\(name)' has unknown ggml type \(raw.typeID)")
        }
        var dims: [Int] = []
        var elements = 1
        for (d, rawDim) in raw.dims.enumerated() {
            guard rawDim > 0, let dim = Int(exactly: rawDim) else {
                throw GGUFError(.invalid, "\(file): tensor '\(name)' has invalid dimension \(d): \(rawDim) (dims \(raw.dims))")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw GGUFError(.invalid, "\(file): tensor '\(name)' element count overflows (dims \(raw.dims))")
            }
            dims.append(dim)
            elements = product
        }
        guard dims[0] % type.blockElements == 0 else {
            throw GGUFError(.invalid, "\(file): tensor '\(name)' row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockElements)")
        }
        let (byteCount, bytesOverflow) = (elements / type.blockElements).multipliedReportingOverflow(by: type.blockBytes)
        guard !bytesOverflow else {
            throw GGUFError(.invalid, "\(file): tensor '\(name)' byte size overflows (dims \(raw.dims), type \(type))")
        }
        guard raw.relativeOffset % UInt64(alignment) == 0 else {
            throw GGUFError(.invalid, "\(file): tensor '\(name)' offset \(raw.relativeOffset) is not a multiple of the alignment \(alignment)")
        }
        let size = reader.count
        let start = UInt64(dataOffset).addingReportingOverflow(raw.relativeOffset)
        let end = start.partialValue.addingReportingOverflow(UInt64(byteCount))
        guard !start.overflow, !end.overflow, end.partialValue <= UInt64(size) else {
            let endText = start.overflow || end.overflow ? "past byte \(UInt64.max)" : "at byte \(end.partialValue)"
            throw GGUFError(.truncated, "\(file): truncated file: tensor '\(name)' data (\(byteCount) bytes at data offset \(raw.relativeOffset)) ends \(endText) but the file has \(size) bytes")
        }
        return GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(start.partialValue),
                              byteCount: byteCount, elementCount: elements)
    }
}

extension Int {
    /// Next multiple of `alignment` (a power of two), or nil on overflow.
    func roundedUp(to alignment: Int) -> Int? {
        let (sum, overflow) = addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }
}
