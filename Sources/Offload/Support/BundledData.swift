import Foundation

/// Data files shipped in `Sources/Offload/Resources` (copied whole into the
/// module bundle, so they keep their folder layout).
enum BundledData {
    static func directory(_ kind: String) -> URL? {
        // Foundation may report the copied `Resources` folder itself as the
        // bundle's resource directory (it looks like a shallow bundle), or
        // the bundle root: accept either.
        let bundle = Bundle.module
        let candidates = [bundle.bundleURL.appendingPathComponent("Resources"), bundle.resourceURL,
                          bundle.resourceURL?.appendingPathComponent("Resources")]
        for case let root? in candidates {
            let url = root.appendingPathComponent(kind)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return url
            }
        }
        return nil
    }

    static func names(_ kind: String) -> [String] {
        guard let dir = directory(kind),
              let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }

    static func url(_ kind: String, name: String) throws -> URL {
        let available = names(kind)
        guard available.contains(name), let dir = directory(kind) else {
            throw OffloadError.notFound(kind: kind == "hardware" ? "hardware profile" : "model shape",
                                        name: name, available: available)
        }
        return dir.appendingPathComponent("\(name).json")
    }

    static func read(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw OffloadError.io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }
}

/// Turns a decoding failure into the one-line error of the module, naming the
/// JSON field that is missing or mistyped.
enum DecodingDiagnosis {
    static func field(of error: Error) -> (field: String, reason: String) {
        guard let decoding = error as? DecodingError else { return ("(file)", "is not valid JSON: \(error)") }
        func path(_ context: DecodingError.Context, _ last: CodingKey? = nil) -> String {
            let keys = context.codingPath + (last.map { [$0] } ?? [])
            let joined = keys.map { $0.stringValue }.joined(separator: ".")
            return joined.isEmpty ? "(root)" : joined
        }
        switch decoding {
        case let .keyNotFound(key, context): return (path(context, key), "is missing")
        case let .typeMismatch(_, context): return (path(context), "has the wrong type")
        case let .valueNotFound(_, context): return (path(context), "is null")
        case let .dataCorrupted(context):
            return (path(context), "is not valid JSON (\(context.debugDescription))")
        @unknown default: return ("(file)", "cannot be decoded")
        }
    }
}
