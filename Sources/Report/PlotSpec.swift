/// A figure described independently of gnuplot: one or more panels side by side.
public struct PlotSpec: Sendable, Equatable, Codable {
    /// File stem: figures/<id>.{gp,dat,png,svg}. Letters, digits, '-', '_' and '.'.
    public var id: String
    public var title: String
    /// One panel, or several laid out in one row (gnuplot multiplot).
    public var panels: [PlotPanel]
    public var width: Int
    public var height: Int

    public init(id: String, title: String, panel: PlotPanel, second: PlotPanel? = nil,
                width: Int = 1000, height: Int = 600) {
        self.init(id: id, title: title, panels: [panel] + (second.map { [$0] } ?? []), width: width, height: height)
    }

    public init(id: String, title: String, panels: [PlotPanel], width: Int = 1000, height: Int = 600) {
        self.id = id
        self.title = title
        self.panels = panels
        self.width = width
        self.height = height
    }
}

/// An axis label always carries its unit, so no figure leaves the reader guessing.
public struct PlotAxis: Sendable, Equatable, Codable {
    public var label: String
    /// e.g. "s", "GB", "tokens"; "1" or "%" for ratios. Empty only when truly unitless.
    public var unit: String
    public var logScale: Bool
    public var range: ClosedRange<Double>?

    public init(_ label: String, unit: String, logScale: Bool = false, range: ClosedRange<Double>? = nil) {
        self.label = label
        self.unit = unit
        self.logScale = logScale
        self.range = range
    }

    /// "Latency (s)"
    public var text: String { unit.isEmpty ? label : "\(label) (\(unit))" }
}

public enum PlotKind: String, Sendable, Equatable, Codable {
    case lines, linespoints, points
    /// Clustered histogram: one group per category, one bar per series.
    case groupedBars
    /// Row-stacked histogram: one bar per category, series stacked on top of each other.
    case stackedBars

    var isBars: Bool { self == .groupedBars || self == .stackedBars }
}

public enum KeyPosition: String, Sendable, Equatable, Codable {
    case topLeft, topRight, bottomLeft, bottomRight, outsideRight, below, none
}

public struct PlotSeries: Sendable, Equatable, Codable {
    public var name: String
    /// Ignored for bar charts (the panel's categories are the x positions).
    public var x: [Double]
    public var y: [Double]

    public init(name: String, x: [Double], y: [Double]) {
        self.name = name
        self.x = x
        self.y = y
    }

    /// For bar charts: one value per category.
    public init(name: String, values: [Double]) {
        self.init(name: name, x: [], y: values)
    }
}

public struct PlotPanel: Sendable, Equatable, Codable {
    public var title: String?
    public var x: PlotAxis
    public var y: PlotAxis
    public var kind: PlotKind
    public var series: [PlotSeries]
    /// Bar charts only: the labels along x, one per value of every series.
    public var categories: [String]
    public var key: KeyPosition

    public init(title: String? = nil, x: PlotAxis, y: PlotAxis, kind: PlotKind, series: [PlotSeries],
                categories: [String] = [], key: KeyPosition = .topRight) {
        self.title = title
        self.x = x
        self.y = y
        self.kind = kind
        self.series = series
        self.categories = categories
        self.key = key
    }
}

extension PlotSpec {
    /// Catches shape mistakes before gnuplot sees them (gnuplot would draw something wrong silently).
    public func validate() throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !id.isEmpty, id.allSatisfy({ allowed.contains($0) }), !id.hasPrefix(".") else {
            throw ReportError("plot id '\(id)' must be letters, digits, '-', '_' or '.'")
        }
        guard !panels.isEmpty, panels.count <= 4 else {
            throw ReportError("\(id): a figure needs 1 to 4 panels, got \(panels.count)")
        }
        guard width >= 100, height >= 100 else { throw ReportError("\(id): figure size \(width)x\(height) too small") }
        for (p, panel) in panels.enumerated() {
            let where_ = panels.count > 1 ? "\(id) panel \(p + 1)" : id
            guard !panel.series.isEmpty else { throw ReportError("\(where_): no series to plot") }
            if panel.kind.isBars {
                guard !panel.categories.isEmpty else { throw ReportError("\(where_): bar chart without categories") }
                for s in panel.series where s.y.count != panel.categories.count {
                    throw ReportError("\(where_): series '\(s.name)' has \(s.y.count) values for \(panel.categories.count) categories")
                }
            } else {
                for s in panel.series {
                    guard !s.y.isEmpty else { throw ReportError("\(where_): series '\(s.name)' is empty") }
                    guard s.x.count == s.y.count else {
                        throw ReportError("\(where_): series '\(s.name)' has \(s.x.count) x and \(s.y.count) y values")
                    }
                    if s.x.contains(where: { !$0.isFinite }) {
                        throw ReportError("\(where_): series '\(s.name)' has a non-finite x value")
                    }
                }
            }
        }
    }
}
