import Foundation

/// A CSV table with RFC 4180 quoting: a field holding a comma, a double quote, CR or LF
/// (or leading/trailing spaces, which some readers trim) is wrapped in double quotes,
/// and inner quotes are doubled. Lines end with LF (friendlier to diffs than CRLF).
public struct CSVTable: Sendable, Equatable {
    public var header: [String]
    public private(set) var rows: [[String]] = []

    public init(header: [String]) {
        self.header = header
    }

    /// Rows must have as many fields as the header, so columns never silently shift.
    public mutating func append(_ row: [String]) throws {
        guard row.count == header.count else {
            throw ReportError("CSV row has \(row.count) fields, header has \(header.count)")
        }
        rows.append(row)
    }

    public func rendered() -> String {
        var out = CSVTable.line(header)
        for row in rows { out += CSVTable.line(row) }
        return out
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(rendered(), to: url)
    }

    public static func line(_ fields: [String]) -> String {
        fields.map(escape).joined(separator: ",") + "\n"
    }

    public static func escape(_ field: String) -> String {
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            || field.hasPrefix(" ") || field.hasSuffix(" ")
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Numbers in CSV use the same shortest round-trip text as the JSON files.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return value.description
    }
}
