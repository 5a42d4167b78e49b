/// One tensor's entry in the tensor table, validated against the file it came from.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// Dimensions as stored: `dims[0]` is the innermost (contiguous) one, i.e. the input
    /// dimension of a weight matrix.
    public let dims: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the tensor data in the file.
    public let offset: Int
    public let byteCount: Int
    public let elementCount: Int

    /// Number of rows: product of `dims[1...]`.
    public var rows: Int { elementCount / rowLength }
    /// Elements per row: `dims[0]`.
    public var rowLength: Int { dims[0] }
    /// Bytes per row (rows are whole blocks, which the parser checks).
    public var rowByteCount: Int { rowLength / type.blockElements * type.blockBytes }
}
