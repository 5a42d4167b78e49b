import Report

/// What an experiment's summary produces from all its records.
public struct ExperimentOutput: Sendable {
    public var tables: [ReportTable]
    public var plots: [PlotSpec]
    public var comparisons: [Comparison]
    /// Differences from the paper beyond those visible in the settings table.
    public var differences: [String]
    /// Markdown for the report: what the numbers show, caveats.
    public var text: String

    public init(tables: [ReportTable] = [], plots: [PlotSpec] = [], comparisons: [Comparison] = [],
                differences: [String] = [], text: String = "") {
        self.tables = tables
        self.plots = plots
        self.comparisons = comparisons
        self.differences = differences
        self.text = text
    }
}
