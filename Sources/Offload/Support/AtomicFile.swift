import Foundation

/// Writes go to a temporary sibling first and are renamed into place, so a
/// reader never sees a half-written file.
enum AtomicFile {
    static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
            try data.write(to: temporary)
            // rename(2) replaces the destination atomically.
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw OffloadError.io(path: url.path, reason: "cannot rename into place (\(reason))")
            }
        } catch let error as OffloadError {
            throw error
        } catch {
            throw OffloadError.io(path: url.path, reason: "cannot write (\(error.localizedDescription))")
        }
    }
}
