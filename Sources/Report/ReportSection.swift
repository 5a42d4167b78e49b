/// One aspect of an experimental setting, e.g. ("Model", "OPT-13B").
public struct Setting: Sendable, Equatable, Codable {
    public var aspect: String
    public var value: String

    public init(_ aspect: String, _ value: String) {
        self.aspect = aspect
        self.value = value
    }
}

/// A number from the paper set against ours.
public struct Comparison: Sendable, Equatable, Codable {
    public var quantity: String
    public var unit: String
    /// nil when the paper gives no number for it.
    public var paper: String?
    public var ours: String
    public var origin: Origin
    public var note: String?

    public init(quantity: String, unit: String = "", paper: String?, ours: String, origin: Origin, note: String? = nil) {
        self.quantity = quantity
        self.unit = unit
        self.paper = paper
        self.ours = ours
        self.origin = origin
        self.note = note
    }

    /// Numbers formatted to 4 significant digits.
    public init(quantity: String, unit: String = "", paper: Double?, ours: Double, origin: Origin, note: String? = nil) {
        self.init(quantity: quantity, unit: unit, paper: paper.map(NumberText.short), ours: NumberText.short(ours),
                  origin: origin, note: note)
    }
}

/// A small table for the report (already formatted text).
public struct ReportTable: Sendable, Equatable, Codable {
    public var title: String
    public var header: [String]
    public var rows: [[String]]

    public init(title: String, header: [String], rows: [[String]]) {
        self.title = title
        self.header = header
        self.rows = rows
    }
}

/// Everything REPORT.md says about one experiment.
public struct ReportSection: Sendable, Equatable {
    public var id: String
    public var title: String
    public var paperSetting: [Setting]
    public var ourSetting: [Setting]
    public var comparisons: [Comparison]
    public var differences: [String]
    /// Free markdown written by the experiment's summary.
    public var text: String
    public var tables: [ReportTable]
    /// Figure ids; images are linked as ../figures/<id>.png relative to the report.
    public var figures: [String]
    /// e.g. "profile quick, 24 configurations".
    public var runLine: String
    public var provenanceLine: String
    /// Which origins this section's numbers have (for the label under the heading).
    public var origins: Set<Origin>

    public init(id: String, title: String, paperSetting: [Setting], ourSetting: [Setting],
                comparisons: [Comparison] = [], differences: [String] = [], text: String = "",
                tables: [ReportTable] = [], figures: [String] = [], runLine: String = "",
                provenanceLine: String = "", origins: Set<Origin> = []) {
        self.id = id
        self.title = title
        self.paperSetting = paperSetting
        self.ourSetting = ourSetting
        self.comparisons = comparisons
        self.differences = differences
        self.text = text
        self.tables = tables
        self.figures = figures
        self.runLine = runLine
        self.provenanceLine = provenanceLine
        self.origins = origins
    }
}

public enum NumberText {
    /// Four significant digits, plain notation where sensible ("0.9812", "553.2", "1.2e-05").
    public static func short(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == 0 { return "0" }
        let magnitude = abs(x)
        if magnitude >= 1e-3 && magnitude < 1e6 {
            var s = String(format: "%.4g", x)
            if s.contains("e") { s = String(format: "%.0f", x) }
            return s
        }
        return String(format: "%.3e", x)
    }
}
