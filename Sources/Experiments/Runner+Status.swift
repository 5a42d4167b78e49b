import Foundation
import Report

/// What `list` shows for one experiment.
public struct ExperimentStatus: Sendable, Equatable {
    public enum State: String, Sendable {
        /// No configuration of the profile is cached.
        case notRun = "not run"
        /// Some but not all configurations are cached.
        case partial
        /// All configurations are cached.
        case cached
        /// Outputs exist but were made from results other than the current ones
        /// (code version, inputs or configurations changed since), or a configuration
        /// is cached only under another key (made by other code or inputs).
        case stale
    }

    public enum Outputs: String, Sendable {
        case absent, current, stale
    }

    public var id: String
    public var title: String
    public var profile: RunProfile
    public var total: Int
    public var cached: Int
    /// Configurations not cached under their current key but under another one (an
    /// older code digest or input): their results exist but are out of date.
    public var superseded: Int = 0
    public var outputs: Outputs
    /// Why the status could not be determined (e.g. an input file is missing).
    public var problem: String?

    public var state: State {
        if outputs == .stale { return .stale }
        if total > 0 && cached == total { return .cached }
        if superseded > 0 { return .stale }
        return cached > 0 ? .partial : .notRun
    }
}

extension Runner {
    /// Cache coverage for `options.profile`; output staleness against the profile the
    /// outputs were made with.
    public func status() throws -> [ExperimentStatus] {
        try registry.select(options.only).map { spec in
            var status = ExperimentStatus(id: spec.id, title: spec.title, profile: options.profile, total: 0, cached: 0,
                                          outputs: .absent, problem: nil)
            do {
                let plan = try ExperimentPlan(spec: spec, profile: options.profile, digests: digests, artifacts: layout.artifacts)
                status.total = plan.configurations.count
                let current = zip(plan.configurations, plan.keys).map {
                    cache.contains(experiment: spec.id, key: $0.1, configuration: $0.0)
                }
                status.cached = current.filter { $0 }.count
                if status.cached < status.total {
                    let keys = Set(plan.keys)
                    let others = Set(cache.entries(experiment: spec.id).filter { !keys.contains($0.key) }
                        .map(\.configuration.canonicalJSON))
                    status.superseded = zip(plan.configurations, current).filter {
                        !$0.1 && others.contains($0.0.canonicalJSON)
                    }.count
                }
                let url = layout.json(spec.id)
                if FileManager.default.fileExists(atPath: url.path) {
                    let artifact = try ExperimentArtifact.load(url)
                    let current = artifact.profile == options.profile
                        ? plan : try ExperimentPlan(spec: spec, profile: artifact.profile, digests: digests, artifacts: layout.artifacts)
                    status.outputs = artifact.cacheKeys == current.keys ? .current : .stale
                }
            } catch {
                status.problem = "\(error)"
            }
            return status
        }
    }
}
