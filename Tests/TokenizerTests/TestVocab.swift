import Foundation
import XCTest
@testable import Tokenizer

/// The real SmolLM2 vocabulary, read from the GGUF with a minimal metadata
/// reader local to the tests (to be replaced by the GGUF module's reader).
enum TestVocab {
    struct Failure: Error, Sendable, CustomStringConvertible {
        let description: String
    }

    static let modelName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// $INFINIGEN_CACHE, else <repo>/.cache/infinigen.
    static var cacheDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["INFINIGEN_CACHE"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".cache/infinigen")
    }

    static var modelURL: URL { cacheDirectory.appendingPathComponent("model/\(modelName)") }

    /// Loaded once per test process.
    static let loaded: Result<BPETokenizer, Failure> = {
        let url = modelURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            return .failure(Failure(description: "model not found at \(url.path)"))
        }
        do {
            let meta = try GGUFMetadataReader.read(url)
            guard let tokens = meta["tokenizer.ggml.tokens"]?.strings,
                  let merges = meta["tokenizer.ggml.merges"]?.strings else {
                return .failure(Failure(description: "GGUF has no tokenizer.ggml.tokens/merges"))
            }
            return .success(try BPETokenizer.fromMetadata(
                model: meta["tokenizer.ggml.model"]?.string ?? "",
                pre: meta["tokenizer.ggml.pre"]?.string,
                tokens: tokens, merges: merges,
                types: meta["tokenizer.ggml.token_type"]?.ints.map { $0.map { Int32($0) } },
                bosID: meta["tokenizer.ggml.bos_token_id"]?.int,
                eosID: meta["tokenizer.ggml.eos_token_id"]?.int,
                unkID: meta["tokenizer.ggml.unknown_token_id"]?.int))
        } catch {
            return .failure(Failure(description: "\(error)"))
        }
    }()

    /// The real tokenizer, or XCTSkip when the model file is absent.
    static func tokenizer() throws -> BPETokenizer {
        switch loaded {
        case let .success(t): return t
        case let .failure(f):
            if !FileManager.default.fileExists(atPath: modelURL.path) { throw XCTSkip(f.description) }
            throw f
        }
    }
}

/// GGUF v2/v3 metadata (key/value section only; tensors are never touched).
enum GGUFMetadataReader {
    enum Value {
        case int(Int64), uint(UInt64), float(Double), bool(Bool), string(String), array([Value])

        var string: String? { if case let .string(s) = self { return s }; return nil }
        var int: Int? {
            switch self {
            case let .int(v): return Int(v)
            case let .uint(v): return Int(v)
            default: return nil
            }
        }
        var strings: [String]? {
            guard case let .array(a) = self else { return nil }
            return a.compactMap(\.string).count == a.count ? a.compactMap(\.string) : nil
        }
        var ints: [Int]? {
            guard case let .array(a) = self else { return nil }
            let r = a.compactMap(\.int)
            return r.count == a.count ? r : nil
        }
    }

    static func read(_ url: URL) throws -> [String: Value] {
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        return try data.withUnsafeBytes { raw -> [String: Value] in
            var cursor = Cursor(raw: raw)
            guard try cursor.bytes(4) == Array("GGUF".utf8) else {
                throw TestVocab.Failure(description: "\(url.lastPathComponent): not a GGUF file")
            }
            let version: UInt32 = try cursor.scalar()
            guard version == 2 || version == 3 else {
                throw TestVocab.Failure(description: "unsupported GGUF version \(version)")
            }
            let _: UInt64 = try cursor.scalar()  // tensor count
            let kvCount: UInt64 = try cursor.scalar()
            var meta: [String: Value] = [:]
            for _ in 0..<kvCount {
                let key = try cursor.string()
                meta[key] = try cursor.value(type: try cursor.scalar() as UInt32)
            }
            return meta
        }
    }

    struct Cursor {
        let raw: UnsafeRawBufferPointer
        var pos = 0

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n >= 0, pos + n <= raw.count else {
                throw TestVocab.Failure(description: "truncated GGUF metadata at byte \(pos)")
            }
            defer { pos += n }
            return Array(raw[pos..<(pos + n)])
        }

        mutating func scalar<T: FixedWidthInteger>() throws -> T {
            let size = MemoryLayout<T>.size
            guard pos + size <= raw.count else {
                throw TestVocab.Failure(description: "truncated GGUF metadata at byte \(pos)")
            }
            defer { pos += size }
            return T(littleEndian: raw.loadUnaligned(fromByteOffset: pos, as: T.self))
        }

        mutating func string() throws -> String {
            let n: UInt64 = try scalar()
            guard n <= UInt64(raw.count - pos) else {
                throw TestVocab.Failure(description: "GGUF string length \(n) overruns the file")
            }
            let start = pos
            pos += Int(n)
            return String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<pos]), as: UTF8.self)
        }

        mutating func value(type: UInt32) throws -> Value {
            switch type {
            case 0: return .uint(UInt64(try scalar() as UInt8))
            case 1: return .int(Int64(try scalar() as Int8))
            case 2: return .uint(UInt64(try scalar() as UInt16))
            case 3: return .int(Int64(try scalar() as Int16))
            case 4: return .uint(UInt64(try scalar() as UInt32))
            case 5: return .int(Int64(try scalar() as Int32))
            case 6: return .float(Double(Float(bitPattern: try scalar())))
            case 7: return .bool(try scalar() as UInt8 != 0)
            case 8: return .string(try string())
            case 9:
                let elementType: UInt32 = try scalar()
                let count: UInt64 = try scalar()
                guard count <= UInt64(raw.count - pos) else {
                    throw TestVocab.Failure(description: "GGUF array length \(count) overruns the file")
                }
                var items: [Value] = []
                items.reserveCapacity(Int(count))
                for _ in 0..<count { items.append(try value(type: elementType)) }
                return .array(items)
            case 10: return .uint(try scalar())
            case 11: return .int(try scalar())
            case 12: return .float(Double(bitPattern: try scalar()))
            default: throw TestVocab.Failure(description: "unknown GGUF value type \(type)")
            }
        }
    }
}
