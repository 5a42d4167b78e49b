import Foundation
import Report

/// SHA-256 of input files, remembered by (path, size, modification time) in a small JSON
/// file so a 100 MB model is hashed once, not on every run.
struct FileDigests {
    let memoFile: URL
    /// The digest a missing optional input enters the key with.
    static let absent = "absent"

    func digests(of inputs: [InputFile]) throws -> [String: String] {
        var memo = load()
        var result: [String: String] = [:]
        var changed = false
        for input in inputs {
            let path = input.url.standardizedFileURL.path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
                if input.optional {
                    result[input.name] = FileDigests.absent
                    continue
                }
                throw ExperimentError("input '\(input.name)' not found at \(path)")
            }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let stamp = "\(size)@\(mtime)"
            if let known = memo[path], known.stamp == stamp {
                result[input.name] = known.digest
                continue
            }
            let digest = try SHA256.hex(fileAt: URL(fileURLWithPath: path))
            memo[path] = (stamp, digest)
            result[input.name] = digest
            changed = true
        }
        if changed {
            let json: JSONValue = .object(memo.mapValues { .object(["stamp": .string($0.stamp), "sha256": .string($0.digest)]) })
            // The memo is an optimization; failing to save it must not fail the run.
            try? AtomicFile.write(json.data(), to: memoFile)
        }
        return result
    }

    private func load() -> [String: (stamp: String, digest: String)] {
        guard let data = try? Data(contentsOf: memoFile), let json = try? JSONValue.parse(data),
              let members = json.objectValue else { return [:] }
        var memo: [String: (stamp: String, digest: String)] = [:]
        for (path, value) in members {
            if let stamp = value["stamp"]?.stringValue, let digest = value["sha256"]?.stringValue {
                memo[path] = (stamp, digest)
            }
        }
        return memo
    }
}
