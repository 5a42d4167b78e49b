import Foundation

/// Where everything goes, relative to one root (the repository by default):
///
///     artifacts/<id>.csv, artifacts/<id>.json, artifacts/REPORT.md
///     artifacts/cache/<id>/<key>.json          result cache (git-ignored)
///     artifacts/shards/<i>-of-<n>/             one shard's manifest.json and cache/
///     figures/<id>.{gp,dat,png,svg}
public struct OutputLayout: Sendable {
    public let root: URL
    public let cache: URL

    public init(root: URL, cache: URL? = nil) {
        self.root = root.standardizedFileURL
        self.cache = cache ?? self.root.appendingPathComponent("artifacts/cache", isDirectory: true)
    }

    public var artifacts: URL { root.appendingPathComponent("artifacts", isDirectory: true) }
    public var figures: URL { root.appendingPathComponent("figures", isDirectory: true) }
    public var shards: URL { artifacts.appendingPathComponent("shards", isDirectory: true) }
    public var report: URL { artifacts.appendingPathComponent("REPORT.md") }

    public func csv(_ id: String) -> URL { artifacts.appendingPathComponent("\(id).csv") }
    public func json(_ id: String) -> URL { artifacts.appendingPathComponent("\(id).json") }
    public func shard(_ shard: Shard) -> URL { shards.appendingPathComponent(shard.directoryName, isDirectory: true) }
}
