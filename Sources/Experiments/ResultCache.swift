import Foundation
import Report

/// Results on disk, one file per configuration: `<directory>/<experiment>/<key>.json`.
/// Entries that cannot be trusted (unparsable, bad checksum, filed under the wrong key)
/// are deleted on lookup so they get recomputed.
public struct ResultCache: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public enum Lookup: Sendable, Equatable {
        case hit(CacheEntry)
        case miss
        /// The entry existed but was unusable and has been deleted; the reason says why.
        case discarded(String)
    }

    public func url(experiment: String, key: String) -> URL {
        directory.appendingPathComponent(experiment, isDirectory: true).appendingPathComponent("\(key).json")
    }

    public func lookup(experiment: String, key: String, configuration: Configuration) -> Lookup {
        let file = url(experiment: experiment, key: key)
        guard let data = try? Data(contentsOf: file) else { return .miss }
        do {
            let entry = try CacheEntry.decode(data)
            guard entry.experiment == experiment, entry.key == key, entry.recomputedKey == key,
                  entry.configuration == configuration else {
                throw ExperimentError("entry does not match its key")
            }
            return .hit(entry)
        } catch {
            try? FileManager.default.removeItem(at: file)
            return .discarded("\(experiment)/\(key.prefix(12)): \(error)")
        }
    }

    /// True when a valid entry exists (does not delete anything).
    public func contains(experiment: String, key: String, configuration: Configuration) -> Bool {
        guard let data = try? Data(contentsOf: url(experiment: experiment, key: key)),
              let entry = try? CacheEntry.decode(data) else { return false }
        return entry.experiment == experiment && entry.key == key && entry.recomputedKey == key
            && entry.configuration == configuration
    }

    /// The valid entries of one experiment, whatever their key (does not delete anything).
    public func entries(experiment: String) -> [CacheEntry] {
        let folder = directory.appendingPathComponent(experiment, isDirectory: true)
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return files.sorted().compactMap { file in
            guard file.hasSuffix(".json"), !file.hasPrefix("."),
                  let data = try? Data(contentsOf: folder.appendingPathComponent(file)),
                  let entry = try? CacheEntry.decode(data), entry.experiment == experiment,
                  "\(entry.recomputedKey).json" == file else { return nil }
            return entry
        }
    }

    public func store(_ entry: CacheEntry) throws {
        try AtomicFile.write(entry.fileData(), to: url(experiment: entry.experiment, key: entry.key))
    }

    /// Every valid entry under the directory; invalid files are reported, not deleted
    /// (this is used to read other machines' shard outputs).
    public func allEntries() -> (entries: [CacheEntry], problems: [String]) {
        var entries: [CacheEntry] = []
        var problems: [String] = []
        let fm = FileManager.default
        guard let experiments = try? fm.contentsOfDirectory(atPath: directory.path) else { return ([], []) }
        for experiment in experiments.sorted() {
            let folder = directory.appendingPathComponent(experiment, isDirectory: true)
            guard let files = try? fm.contentsOfDirectory(atPath: folder.path) else { continue }
            for file in files.sorted() where file.hasSuffix(".json") && !file.hasPrefix(".") {
                let path = folder.appendingPathComponent(file)
                do {
                    let entry = try CacheEntry.decode(try Data(contentsOf: path))
                    guard entry.experiment == experiment, "\(entry.recomputedKey).json" == file else {
                        throw ExperimentError("entry does not match its file name")
                    }
                    entries.append(entry)
                } catch {
                    problems.append("\(path.path): \(error)")
                }
            }
        }
        return (entries, problems)
    }
}
