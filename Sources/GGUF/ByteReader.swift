/// Sequential little-endian reader over a byte range. Every read is bounds-checked before
/// it happens; lengths read from the file are compared with what remains, never added to
/// the position first, so hostile 64-bit values cannot overflow or over-allocate.
struct ByteReader {
    let base: UnsafeRawPointer
    let count: Int
    let fileName: String
    private(set) var position: Int = 0

    init(base: UnsafeRawPointer, count: Int, fileName: String) {
        self.base = base
        self.count = count
        self.fileName = fileName
    }

    var remaining: Int { count - position }

    /// "ends at byte E but the file has N bytes", phrased without overflowing.
    func truncated(_ what: String, needing length: UInt64) -> GGUFError {
        let (end, overflow) = UInt64(position).addingReportingOverflow(length)
        let where_ = overflow ? "needs \(length) bytes from byte \(position)" : "ends at byte \(end)"
        return GGUFError(.truncated, "\(fileName): truncated file: \(what) \(where_) but the file has \(count) bytes")
    }

    /// Ensures `length` more bytes exist, then returns their start and advances.
    mutating func take(_ length: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawPointer {
        guard length >= 0, length <= remaining else {
            throw truncated(what(), needing: UInt64(max(length, 0)))
        }
        let start = base + position
        position += length
        return start
    }

    mutating func skip(to newPosition: Int) {
        precondition(newPosition >= position && newPosition <= count)
        position = newPosition
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let p = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: p.loadUnaligned(as: T.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try read(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try read(UInt64.self, what()) }

    /// A u64 length/count that must be coverable by the bytes left, at `unit` bytes per item.
    mutating func count(_ what: @autoclosure () -> String, unit: Int) throws -> Int {
        let raw = try u64(what())
        let available = UInt64(remaining / unit)
        guard raw <= available else {
            let text = what()
            let (need, overflow) = raw.multipliedReportingOverflow(by: UInt64(unit))
            throw truncated("\(text) (\(raw) items)", needing: overflow ? UInt64.max : need)
        }
        return Int(raw)
    }

    /// GGUF string: u64 byte length then UTF-8 bytes (invalid UTF-8 is repaired, not fatal).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let lengthRaw = try u64(what())
        guard lengthRaw <= UInt64(remaining) else { throw truncated(what(), needing: lengthRaw) }
        let length = Int(lengthRaw)
        let p = try take(length, what())
        return String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self)
    }
}
