/// How much of each experiment to run. `quick` is for CI and golden checks (minutes),
/// `default` for `make reproduce`, `full` for the paper's complete sweeps.
public enum RunProfile: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case quick, `default`, full

    public init(parsing text: String) throws {
        guard let profile = RunProfile(rawValue: text.lowercased()) else {
            throw ExperimentError("unknown profile '\(text)': use quick, default or full")
        }
        self = profile
    }

    public var description: String { rawValue }
}
