#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns the bytes a GGUFFile reads: a read-only memory map of a file, or a private copy of
/// an in-memory array. Freed in deinit, so a parse that throws releases them too.
final class FileBytes: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let isMapped: Bool

    /// Maps `path` read-only. The mapping stays valid after the descriptor is closed.
    init(mapping path: String, name: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.ioError(name, "cannot open '\(path)'") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Self.ioError(name, "cannot stat '\(path)'") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError(.io, "\(name): '\(path)' is not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            throw GGUFError(.truncated, "\(name): truncated file: the file is empty")
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw Self.ioError(name, "cannot memory-map '\(path)' (\(size) bytes)")
        }
        base = UnsafeRawPointer(p)
        count = size
        isMapped = true
    }

    /// Copies `bytes` into memory this object owns.
    init(copying bytes: [UInt8]) {
        // At least one byte so the pointer is valid even for an empty input.
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress { p.copyMemory(from: s, byteCount: src.count) }
        }
        base = UnsafeRawPointer(p)
        count = bytes.count
        isMapped = false
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    private static func ioError(_ name: String, _ what: String) -> GGUFError {
        GGUFError(.io, "\(name): \(what): \(String(cString: strerror(errno)))")
    }
}
