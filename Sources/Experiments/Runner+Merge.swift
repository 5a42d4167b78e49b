import Foundation
import Report

extension Runner {
    /// `merge`: imports the results of shard directories (each holding manifest.json and
    /// cache/, or a parent of such directories) into the cache, checks that every
    /// configuration of the sharded experiments is present, then writes all outputs
    /// exactly as an unsharded run would.
    @discardableResult
    public func merge(shardDirectories: [URL]) async throws -> RunSummary {
        let found = try shardDirectories.flatMap(Runner.discoverShards)
        guard let first = found.first else {
            throw ExperimentError("merge: no shard manifest (manifest.json) under \(shardDirectories.map(\.path).joined(separator: ", "))")
        }
        let manifests = try found.map { try ShardManifest.load($0.appendingPathComponent(ShardManifest.fileName)) }
        let reference = manifests[0]
        for (m, dir) in zip(manifests, found) {
            guard m.profile == reference.profile, m.shard?.count == reference.shard?.count,
                  m.experiments.map(\.id) == reference.experiments.map(\.id) else {
                throw ExperimentError("merge: \(dir.path) was run with a different profile, shard count or experiment "
                                      + "selection than \(first.path)")
            }
        }
        var problems: [String] = []
        for dir in found {
            let shardCache = ResultCache(directory: dir.appendingPathComponent("cache", isDirectory: true))
            let (entries, bad) = shardCache.allEntries()
            problems += bad
            for entry in entries { try cache.store(entry) }
        }
        guard problems.isEmpty else {
            throw ExperimentError("merge: damaged shard results: " + problems.joined(separator: "; "))
        }

        let profile = reference.profile
        let plans = try plans(reference.experiments.map { try registry.spec($0.id) }, profile: profile)
        var missing: [String] = []
        var collected: [(ExperimentPlan, [CacheEntry])] = []
        var summary = RunSummary()
        for plan in plans {
            var entries: [CacheEntry] = []
            for (configuration, key) in zip(plan.configurations, plan.keys) {
                if case .hit(let entry) = cache.lookup(experiment: plan.id, key: key, configuration: configuration) {
                    entries.append(entry)
                }
            }
            if entries.count < plan.configurations.count {
                missing.append("\(plan.id) \(plan.configurations.count - entries.count) of \(plan.configurations.count)")
            }
            collected.append((plan, entries))
            summary.experiments.append(.init(id: plan.id, total: plan.configurations.count, cached: entries.count))
        }
        if !missing.isEmpty {
            let present = manifests.compactMap { $0.shard?.index }.sorted().map(String.init).joined(separator: ",")
            throw ExperimentError("merge: configurations missing (\(missing.joined(separator: ", "))); shards present: "
                                  + "\(present) of \(reference.shard?.count ?? 0)")
        }
        var renderErrors: [String] = []
        for (plan, entries) in collected {
            summary.written += try emit(plan, entries: entries, renderErrors: &renderErrors)
        }
        summary.written.append(try writeReport())
        if !renderErrors.isEmpty {
            throw ExperimentError("outputs written but figures not rendered: " + renderErrors.joined(separator: "; "))
        }
        return summary
    }

    /// A directory with a manifest is one shard; otherwise its immediate subdirectories are searched.
    static func discoverShards(_ directory: URL) throws -> [URL] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExperimentError("merge: \(directory.path) is not a directory")
        }
        if fm.fileExists(atPath: directory.appendingPathComponent(ShardManifest.fileName).path) { return [directory] }
        let children = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
        return children.sorted().map { directory.appendingPathComponent($0, isDirectory: true) }
            .filter { fm.fileExists(atPath: $0.appendingPathComponent(ShardManifest.fileName).path) }
    }
}
