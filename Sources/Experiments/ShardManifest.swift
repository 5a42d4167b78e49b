import Foundation
import Report

/// artifacts/shards/<i>-of-<n>/manifest.json: which shard this is, under which profile,
/// and which cache keys it computed per experiment. Its results sit next to it in cache/.
struct ShardManifest: Sendable, Equatable {
    static let fileName = "manifest.json"

    struct Experiment: Sendable, Equatable {
        var id: String
        var keys: [String]
    }

    var shard: Shard?
    var profile: RunProfile
    var experiments: [Experiment]

    func json() throws -> JSONValue {
        guard let shard else { throw ExperimentError("a shard manifest needs a shard") }
        return .object([
            "shard": .int(shard.index),
            "count": .int(shard.count),
            "profile": .string(profile.rawValue),
            "experiments": .array(experiments.map {
                .object(["id": .string($0.id), "keys": .array($0.keys.map(JSONValue.string))])
            }),
        ])
    }

    static func load(_ url: URL) throws -> ShardManifest {
        let json = try JSONValue.parse(contentsOf: url)
        guard let index = json["shard"]?.intValue, let count = json["count"]?.intValue,
              let profile = json["profile"]?.stringValue, let list = json["experiments"]?.arrayValue else {
            throw ExperimentError("\(url.path): not a shard manifest")
        }
        let experiments = try list.map { e -> Experiment in
            guard let id = e["id"]?.stringValue, let keys = e["keys"]?.arrayValue?.compactMap(\.stringValue) else {
                throw ExperimentError("\(url.path): bad experiment entry")
            }
            return Experiment(id: id, keys: keys)
        }
        return ShardManifest(shard: try Shard(index: index, count: count), profile: try RunProfile(parsing: profile),
                             experiments: experiments)
    }
}
