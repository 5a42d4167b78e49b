import Foundation

public struct RunnerOptions: Sendable {
    public var profile: RunProfile
    /// Experiment ids to run; nil or empty means all registered.
    public var only: [String]?
    public var shard: Shard?
    /// Suppresses the progress line (warnings still print).
    public var quiet: Bool
    public var layout: OutputLayout
    /// Render PNG/SVG with gnuplot after writing the .gp/.dat files.
    public var renderFigures: Bool
    /// Directory whose git state goes into provenance.
    public var repository: URL

    public init(profile: RunProfile = .default, only: [String]? = nil, shard: Shard? = nil, quiet: Bool = false,
                layout: OutputLayout = OutputLayout(root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)),
                renderFigures: Bool = true,
                repository: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) {
        self.profile = profile
        self.only = only
        self.shard = shard
        self.quiet = quiet
        self.layout = layout
        self.renderFigures = renderFigures
        self.repository = repository
    }
}

/// What a reproduce / merge invocation did.
public struct RunSummary: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        public var id: String
        public var total = 0
        public var computed = 0
        public var cached = 0
        /// Cache entries found damaged or mismatched, deleted and recomputed.
        public var discarded = 0
    }

    public var experiments: [Counts] = []
    /// Files written (CSV, JSON, figures, report, shard manifest).
    public var written: [URL] = []

    public var computed: Int { experiments.map(\.computed).reduce(0, +) }
    public var cached: Int { experiments.map(\.cached).reduce(0, +) }
    public var discarded: Int { experiments.map(\.discarded).reduce(0, +) }
}
