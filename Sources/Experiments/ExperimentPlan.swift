import Foundation

/// One experiment's configurations for a profile, with their cache keys.
struct ExperimentPlan: Sendable {
    let spec: any ExperimentSpec
    let profile: RunProfile
    let configurations: [Configuration]
    let keys: [String]
    let inputDigests: [String: String]
    /// The spec's code version, read once so keys, entries and outputs agree.
    let codeVersion: String

    var id: String { spec.id }

    init(spec: any ExperimentSpec, profile: RunProfile, digests: FileDigests, artifacts: URL) throws {
        self.spec = spec
        self.profile = profile
        configurations = spec.configurations(profile: profile)
        guard !configurations.isEmpty else {
            throw ExperimentError("\(spec.id): no configurations for profile \(profile)")
        }
        for (i, c) in configurations.enumerated() {
            do { try c.validate() } catch { throw ExperimentError("\(spec.id) configuration \(i + 1): \(error)") }
        }
        inputDigests = try digests.digests(of: spec.inputs(artifacts: artifacts))
        codeVersion = spec.codeVersion
        let version = codeVersion
        let id = spec.id
        let digests = inputDigests
        keys = configurations.map {
            CacheEntry.key(experiment: id, configuration: $0, inputDigests: digests, codeVersion: version)
        }
        // Two equal configurations would share one cache entry and one row: a spec bug.
        var seen: [String: Int] = [:]
        for (i, key) in keys.enumerated() {
            if let first = seen[key] {
                throw ExperimentError("\(spec.id): configurations \(first + 1) and \(i + 1) are identical (\(configurations[i]))")
            }
            seen[key] = i
        }
    }
}
