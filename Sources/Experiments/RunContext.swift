import Foundation

/// What `run` may use besides its configuration.
public struct RunContext: Sendable {
    public let experimentID: String
    public let profile: RunProfile
    /// Input name → SHA-256, as entered into the cache key.
    public let inputDigests: [String: String]
    /// Objects shared across configurations and experiments of one invocation (a loaded
    /// model, a tokenized text), built once on first use.
    public let resources: ResourcePool
    /// Prints a note without garbling the progress line.
    public let log: @Sendable (String) -> Void
    /// The run's `artifacts/` directory, for the few specs that keep a machine-specific
    /// file beside the results (the `this-machine` profile), so nothing depends on the cwd.
    public let artifacts: URL

    public init(experimentID: String, profile: RunProfile, inputDigests: [String: String] = [:],
                resources: ResourcePool = ResourcePool(), log: @escaping @Sendable (String) -> Void = { _ in },
                artifacts: URL = URL(fileURLWithPath: "artifacts", isDirectory: true)) {
        self.experimentID = experimentID
        self.artifacts = artifacts
        self.profile = profile
        self.inputDigests = inputDigests
        self.resources = resources
        self.log = log
    }
}

/// A keyed store of lazily built shared objects.
public actor ResourcePool {
    private var values: [String: any Sendable] = [:]

    public init() {}

    /// The value stored under `key`, building it with `make` the first time.
    public func value<T: Sendable>(_ key: String, as type: T.Type = T.self,
                                   make: @Sendable () async throws -> T) async throws -> T {
        if let existing = values[key] {
            guard let typed = existing as? T else {
                throw ExperimentError("resource '\(key)' holds a \(Swift.type(of: existing)), not a \(T.self)")
            }
            return typed
        }
        let made = try await make()
        values[key] = made
        return made
    }
}
