import Report

/// A scalar result: number or text.
public enum MetricValue: Sendable, Equatable, CustomStringConvertible {
    case double(Double)
    case int(Int)
    case string(String)

    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .string: return nil
        }
    }

    public var json: JSONValue {
        switch self {
        case .double(let d): return .double(d)
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        }
    }

    /// JSON strings spelling NaN/Infinity read back as doubles (that is how they were written).
    public init(json: JSONValue) throws {
        switch json {
        case .double(let d): self = .double(d)
        case .int(let i): self = .int(i)
        case .string(let s): self = JSONValue.string(s).doubleValue.map(MetricValue.double) ?? .string(s)
        default: throw ExperimentError("a result value must be a number or string, got \(json.rendered(pretty: false))")
        }
    }

    public var description: String {
        switch self {
        case .double(let d): return CSVTable.format(d)
        case .int(let i): return String(i)
        case .string(let s): return s
        }
    }

    /// NaN equals NaN here: a result that was NaN and still is NaN has not changed.
    func sameAs(_ other: MetricValue) -> Bool {
        if case .double(let a) = self, case .double(let b) = other, a.isNaN, b.isNaN { return true }
        return self == other
    }
}

public struct NamedValue: Sendable, Equatable {
    public var name: String
    public var value: MetricValue
    public var origin: Origin
    public var unit: String

    public init(name: String, value: MetricValue, origin: Origin, unit: String = "") {
        self.name = name
        self.value = value
        self.origin = origin
        self.unit = unit
    }
}

/// An array result, e.g. one value per layer. `x` is optional (index order when absent).
public struct NamedSeries: Sendable, Equatable {
    public var name: String
    public var x: [Double]?
    public var y: [Double]
    public var origin: Origin
    public var unit: String

    public init(name: String, x: [Double]? = nil, y: [Double], origin: Origin, unit: String = "") {
        self.name = name
        self.x = x
        self.y = y
        self.origin = origin
        self.unit = unit
    }
}

/// What one configuration produced: named values in the order the experiment added
/// them, each flagged measured or modeled, plus optional series.
public struct ResultRecord: Sendable, Equatable {
    public var values: [NamedValue] = []
    public var series: [NamedSeries] = []

    public init(values: [NamedValue] = [], series: [NamedSeries] = []) {
        self.values = values
        self.series = series
    }

    public mutating func add(_ name: String, _ value: Double, _ origin: Origin, unit: String = "") {
        values.append(NamedValue(name: name, value: .double(value), origin: origin, unit: unit))
    }

    public mutating func add(_ name: String, _ value: Int, _ origin: Origin, unit: String = "") {
        values.append(NamedValue(name: name, value: .int(value), origin: origin, unit: unit))
    }

    public mutating func add(_ name: String, _ value: String, _ origin: Origin, unit: String = "") {
        values.append(NamedValue(name: name, value: .string(value), origin: origin, unit: unit))
    }

    public mutating func addSeries(_ name: String, _ y: [Double], x: [Double]? = nil, _ origin: Origin, unit: String = "") {
        series.append(NamedSeries(name: name, x: x, y: y, origin: origin, unit: unit))
    }

    public func value(_ name: String) -> MetricValue? { values.first { $0.name == name }?.value }
    public func double(_ name: String) -> Double? { value(name)?.doubleValue }
    public func series(_ name: String) -> NamedSeries? { series.first { $0.name == name } }

    /// Names must be unique (values and series share one namespace) and series shaped.
    func validate() throws {
        var seen = Set<String>()
        for name in values.map(\.name) + series.map(\.name) {
            guard !name.isEmpty else { throw ExperimentError("result has an empty value name") }
            guard seen.insert(name).inserted else { throw ExperimentError("result has two values named '\(name)'") }
        }
        for s in series {
            if let x = s.x, x.count != s.y.count {
                throw ExperimentError("series '\(s.name)' has \(x.count) x and \(s.y.count) y values")
            }
        }
    }

    // MARK: JSON

    public var json: JSONValue {
        .object([
            "values": .array(values.map { v in
                .object(["name": .string(v.name), "value": v.value.json,
                         "origin": .string(v.origin.rawValue), "unit": .string(v.unit)])
            }),
            "series": .array(series.map { s in
                var members: [String: JSONValue] = ["name": .string(s.name), "y": .array(s.y.map(JSONValue.double)),
                                                    "origin": .string(s.origin.rawValue), "unit": .string(s.unit)]
                if let x = s.x { members["x"] = .array(x.map(JSONValue.double)) }
                return .object(members)
            }),
        ])
    }

    public init(json: JSONValue) throws {
        func origin(_ j: JSONValue) throws -> Origin {
            guard let raw = j["origin"]?.stringValue, let o = Origin(rawValue: raw) else {
                throw ExperimentError("result entry without a valid origin (measured|modeled)")
            }
            return o
        }
        func doubles(_ j: JSONValue?, _ what: String) throws -> [Double] {
            guard let items = j?.arrayValue else { throw ExperimentError("series \(what) is not an array") }
            return try items.map {
                guard let d = $0.doubleValue else { throw ExperimentError("series \(what) holds a non-number") }
                return d
            }
        }
        guard let valueList = json["values"]?.arrayValue, let seriesList = json["series"]?.arrayValue else {
            throw ExperimentError("result record lacks 'values' or 'series'")
        }
        values = try valueList.map { v in
            guard let name = v["name"]?.stringValue, let raw = v["value"] else {
                throw ExperimentError("result value lacks 'name' or 'value'")
            }
            return NamedValue(name: name, value: try MetricValue(json: raw), origin: try origin(v),
                              unit: v["unit"]?.stringValue ?? "")
        }
        series = try seriesList.map { s in
            guard let name = s["name"]?.stringValue else { throw ExperimentError("result series lacks 'name'") }
            let x: [Double]? = s["x"] == nil ? nil : try doubles(s["x"], "\(name).x")
            return NamedSeries(name: name, x: x, y: try doubles(s["y"], "\(name).y"), origin: try origin(s),
                               unit: s["unit"]?.stringValue ?? "")
        }
    }
}

/// A record together with the configuration that produced it (what `summarize` receives).
public struct ExperimentResult: Sendable, Equatable {
    public var configuration: Configuration
    public var record: ResultRecord

    public init(configuration: Configuration, record: ResultRecord) {
        self.configuration = configuration
        self.record = record
    }
}
