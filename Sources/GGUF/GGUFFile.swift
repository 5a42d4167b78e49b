/// A parsed GGUF file: header, metadata, tensor table, and read-only access to tensor data.
/// The file is memory-mapped, so opening a large model costs only the header parse; tensor
/// data pointers stay valid for the lifetime of this object.
public final class GGUFFile: @unchecked Sendable {
    /// File name used in error messages ("model.gguf", or "<bytes>" for in-memory input).
    public let name: String
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    /// Total size of the file in bytes.
    public var byteCount: Int { bytes.count }

    private let bytes: FileBytes
    private let tensorIndex: [String: Int]

    /// Memory-maps and parses the file at `path`.
    public convenience init(path: String) throws {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        try self.init(bytes: try FileBytes(mapping: path, name: name), name: name)
    }

    /// Parses a private copy of `bytes` (for tests and generated models).
    public convenience init(bytes: [UInt8], name: String = "<bytes>") throws {
        try self.init(bytes: FileBytes(copying: bytes), name: name)
    }

    private init(bytes: FileBytes, name: String) throws {
        var parser = GGUFParser(base: bytes.base, count: bytes.count, fileName: name)
        let layout = try parser.parse()
        self.bytes = bytes
        self.name = name
        version = layout.version
        metadata = layout.metadata
        metadataKeys = layout.metadataKeys
        tensors = layout.tensors
        alignment = layout.alignment
        dataOffset = layout.dataOffset
        tensorIndex = Dictionary(uniqueKeysWithValues: layout.tensors.enumerated().map { ($1.name, $0) })
    }

    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Like `tensor(named:)` but throws a clear error when the tensor is absent.
    public func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensor(named: name) else {
            throw GGUFError(.missingKey, "\(self.name): tensor '\(name)' is missing")
        }
        return info
    }

    /// The raw bytes of a tensor, valid while this object is alive. `info` must come from
    /// this file (its range was validated when the file was parsed).
    public func data(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(info.offset >= 0 && info.byteCount >= 0 && info.offset <= bytes.count - info.byteCount,
                     "tensor '\(info.name)' does not belong to \(name)")
        return UnsafeRawBufferPointer(start: bytes.base + info.offset, count: info.byteCount)
    }

    /// The whole tensor as Float32, in storage order (row-major with `dims[0]` innermost).
    public func dequantize(_ info: GGUFTensorInfo) throws -> [Float] {
        try dequantize(info, rows: 0..<info.rows)
    }

    /// Rows `rows` of a tensor (a row is `dims[0]` elements), e.g. one token's embedding.
    public func dequantize(_ info: GGUFTensorInfo, rows: Range<Int>) throws -> [Float] {
        guard rows.lowerBound >= 0, rows.upperBound <= info.rows else {
            throw GGUFError(.invalidArgument, "\(name): tensor '\(info.name)': rows \(rows) out of range 0..<\(info.rows)")
        }
        let count = rows.count * info.rowLength
        if count == 0 { return [] }
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try dequantize(info, rows: rows, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// Dequantizes rows `rows` into `destination` (room for `rows.count * rowLength` floats).
    public func dequantize(_ info: GGUFTensorInfo, rows: Range<Int>,
                           into destination: UnsafeMutablePointer<Float>) throws {
        guard rows.lowerBound >= 0, rows.upperBound <= info.rows else {
            throw GGUFError(.invalidArgument, "\(name): tensor '\(info.name)': rows \(rows) out of range 0..<\(info.rows)")
        }
        guard Dequantize.supports(info.type) else {
            throw GGUFError(.unsupported, "\(name): tensor '\(info.name)': dequantization of \(info.type) is not supported (supported: \(Dequantize.supportedTypes.map(\.name).joined(separator: ", ")))")
        }
        if rows.isEmpty { return }
        let source = data(of: info).baseAddress! + rows.lowerBound * info.rowByteCount
        try Dequantize.row(info.type, source, count: rows.count * info.rowLength, into: destination)
    }
}
