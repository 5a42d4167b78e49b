import Foundation

/// Builds GGUF v3 files: metadata in insertion order, tensors in insertion order, each
/// tensor's data aligned to `general.alignment` (default 32). Float tensors are encoded
/// with `Quantize` at serialization time.
///
///     var w = GGUFWriter()
///     w.set("general.architecture", .string("llama"))
///     w.addTensor(name: "token_embd.weight", dims: [64, 100], type: .q8_0, values: embedding)
///     try w.write(to: path)
public struct GGUFWriter: Sendable {
    private enum Payload: Sendable {
        case floats([Float])
        case raw([UInt8])
    }

    private struct Tensor: Sendable {
        var name: String
        var dims: [Int]
        var type: GGMLType
        var payload: Payload
    }

    private var entries: [(key: String, value: GGUFValue)] = []
    private var keyIndex: [String: Int] = [:]
    private var tensors: [Tensor] = []

    public init() {}

    /// Sets a metadata value; setting an existing key replaces it in place.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = keyIndex[key] {
            entries[i].value = value
        } else {
            keyIndex[key] = entries.count
            entries.append((key, value))
        }
    }

    /// Adds a tensor from Float32 values in storage order (`dims[0]` innermost), encoded as
    /// `type` on serialization. Problems (wrong count, unsupported type) surface there.
    public mutating func addTensor(name: String, dims: [Int], type: GGMLType = .f32, values: [Float]) {
        tensors.append(Tensor(name: name, dims: dims, type: type, payload: .floats(values)))
    }

    /// Adds a tensor whose encoded bytes are given directly (e.g. hand-made K-quant blocks).
    public mutating func addTensor(name: String, dims: [Int], type: GGMLType, rawData: [UInt8]) {
        tensors.append(Tensor(name: name, dims: dims, type: type, payload: .raw(rawData)))
    }

    /// Data alignment: `general.alignment` if set (it must be a power of two), else 32.
    private func resolvedAlignment() throws -> Int {
        guard let i = keyIndex["general.alignment"] else { return GGUFParser.defaultAlignment }
        return try GGUFParser.alignment(in: ["general.alignment": entries[i].value], file: "GGUFWriter")
    }

    /// The complete file.
    public func serialize() throws -> [UInt8] {
        let alignment = try resolvedAlignment()
        var out = ByteWriter()
        out.append(Array("GGUF".utf8))
        out.append(UInt32(3))
        out.append(UInt64(tensors.count))
        out.append(UInt64(entries.count))
        for (key, value) in entries {
            out.append(string: key)
            try out.append(value: value, key: key)
        }

        let encoded = try tensors.map(encode)
        var names = Set<String>()
        var offset = 0
        for (tensor, data) in zip(tensors, encoded) {
            guard names.insert(tensor.name).inserted else {
                throw GGUFError(.invalidArgument, "GGUFWriter: duplicate tensor name '\(tensor.name)'")
            }
            out.append(string: tensor.name)
            out.append(UInt32(tensor.dims.count))
            for d in tensor.dims { out.append(UInt64(d)) }
            out.append(tensor.type.rawValue)
            out.append(UInt64(offset))
            offset = (offset + data.count).roundedUp(to: alignment)!
        }
        // A file without tensors has no data section and so needs no padding.
        if !encoded.isEmpty { out.pad(to: alignment) }
        for data in encoded {
            out.append(data)
            out.pad(to: alignment)
        }
        return out.bytes
    }

    /// Serializes and writes atomically (temporary file in the same folder, then rename).
    public func write(to path: String) throws {
        let bytes = try serialize()
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw GGUFError(.io, "GGUFWriter: cannot write '\(path)': \(error.localizedDescription)")
        }
    }

    private func encode(_ tensor: Tensor) throws -> [UInt8] {
        let label = "GGUFWriter: tensor '\(tensor.name)'"
        guard (1...GGUFParser.maxDims).contains(tensor.dims.count) else {
            throw GGUFError(.invalidArgument, "\(label) has \(tensor.dims.count) dimensions (1 to \(GGUFParser.maxDims) supported)")
        }
        guard tensor.dims.allSatisfy({ $0 > 0 }) else {
            throw GGUFError(.invalidArgument, "\(label) has a non-positive dimension in \(tensor.dims)")
        }
        let (count, overflow) = tensor.dims.dropFirst().reduce((tensor.dims[0], false)) { acc, d in
            let r = acc.0.multipliedReportingOverflow(by: d)
            return (r.partialValue, acc.1 || r.overflow)
        }
        guard !overflow else { throw GGUFError(.invalidArgument, "\(label) dims \(tensor.dims) overflow") }
        guard tensor.dims[0] % tensor.type.blockElements == 0 else {
            throw GGUFError(.invalidArgument, "\(label) row length \(tensor.dims[0]) is not a multiple of the \(tensor.type) block size \(tensor.type.blockElements)")
        }
        switch tensor.payload {
        case .floats(let values):
            guard values.count == count else {
                throw GGUFError(.invalidArgument, "\(label) has \(values.count) values but dims \(tensor.dims) need \(count)")
            }
            do {
                return try Quantize.encode(values, as: tensor.type)
            } catch let error as GGUFError {
                throw GGUFError(error.kind, "\(label): \(error.message)")
            }
        case .raw(let bytes):
            let expected = count / tensor.type.blockElements * tensor.type.blockBytes
            guard bytes.count == expected else {
                throw GGUFError(.invalidArgument, "\(label) has \(bytes.count) bytes of \(tensor.type) data but dims \(tensor.dims) need \(expected)")
            }
            return bytes
        }
    }
}
