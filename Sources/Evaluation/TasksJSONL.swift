import Foundation

/// Reads a JSON-lines file into one decoded value per non-empty line, with errors that
/// name the file and line.
enum TasksJSONL {
    static func read<T: Decodable>(_ url: URL, as type: T.Type) throws -> [T] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FewShotError("missing task file \(url.path): run `make setup` (or set INFINIGEN_CACHE)")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FewShotError("cannot read \(url.path): \(error.localizedDescription)")
        }
        let decoder = JSONDecoder()
        var rows: [T] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            do {
                rows.append(try decoder.decode(T.self, from: Data(line)))
            } catch {
                throw FewShotError("\(url.lastPathComponent) line \(lineNumber): \(describe(error))")
            }
        }
        return rows
    }

    private static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: return "missing field \"\(key.stringValue)\""
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            return "wrong type for \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case .dataCorrupted?: return "not valid JSON"
        default: return "\(error)"
        }
    }
}
