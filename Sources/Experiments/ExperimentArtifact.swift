import Foundation
import Report

/// The content of artifacts/<id>.json: every number (with its origin), how it was
/// produced, and what the report says about it. REPORT.md is rebuilt from these files.
public struct ExperimentArtifact: Sendable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var configuration: Configuration
        public var record: ResultRecord
    }

    public var id: String
    public var title: String
    public var profile: RunProfile
    public var codeVersion: String
    public var paperSetting: [Setting]
    public var ourSetting: [Setting]
    public var referenceValues: [ReferenceValue]
    public var entries: [Entry]
    public var tables: [ReportTable]
    public var comparisons: [Comparison]
    public var differences: [String]
    public var text: String
    public var figures: [String]
    /// The paper claims this experiment tests, with verdicts computed from `entries`.
    public var claims: [ClaimResult]
    public var provenance: Provenance

    public var cacheKeys: [String] { entries.map(\.key) }
    public var results: [ExperimentResult] { entries.map { ExperimentResult(configuration: $0.configuration, record: $0.record) } }

    /// Everything except `contentSHA256` and the provenance's volatile fields.
    func stableJSON() throws -> JSONValue {
        .object([
            "id": .string(id),
            "title": .string(title),
            "profile": .string(profile.rawValue),
            "codeVersion": .string(codeVersion),
            "paperSetting": try JSONValue(encoding: paperSetting),
            "ourSetting": try JSONValue(encoding: ourSetting),
            "referenceValues": try JSONValue(encoding: referenceValues),
            "records": .array(entries.map { e in
                guard case .object(var members) = e.record.json else { return e.record.json }
                members["key"] = .string(e.key)
                members["configuration"] = e.configuration.json
                return .object(members)
            }),
            "tables": try JSONValue(encoding: tables),
            "comparisons": try JSONValue(encoding: comparisons),
            "differences": .array(differences.map(JSONValue.string)),
            "text": .string(text),
            "figures": .array(figures.map(JSONValue.string)),
            "claims": try JSONValue(encoding: claims),
            "provenance": try provenance.stableJSON(),
        ])
    }

    /// Hash of the stable content: two runs that computed the same numbers in the same
    /// code state on the same machine agree on it, whenever they ran.
    public func contentSHA256() throws -> String {
        SHA256.hex(try stableJSON().rendered(pretty: false))
    }

    public func json() throws -> JSONValue {
        guard case .object(var members) = try stableJSON() else { throw ExperimentError("artifact JSON is not an object") }
        members["provenance"] = try provenance.json()
        members["contentSHA256"] = .string(try contentSHA256())
        return .object(members)
    }

    public init(id: String, title: String, profile: RunProfile, codeVersion: String, paperSetting: [Setting],
                ourSetting: [Setting], referenceValues: [ReferenceValue], entries: [Entry], output: ExperimentOutput,
                provenance: Provenance) {
        self.id = id
        self.title = title
        self.profile = profile
        self.codeVersion = codeVersion
        self.paperSetting = paperSetting
        self.ourSetting = ourSetting
        self.referenceValues = referenceValues
        self.entries = entries
        self.tables = output.tables
        self.comparisons = output.comparisons
        self.differences = output.differences
        self.text = output.text
        self.figures = output.plots.map(\.id)
        self.claims = PaperClaims.evaluate(experiment: id, results: entries.map {
            ExperimentResult(configuration: $0.configuration, record: $0.record)
        })
        self.provenance = provenance
    }

    public init(json: JSONValue) throws {
        func string(_ key: String) throws -> String {
            guard let s = json[key]?.stringValue else { throw ExperimentError("artifact lacks '\(key)'") }
            return s
        }
        func decoded<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let value = json[key] else { throw ExperimentError("artifact lacks '\(key)'") }
            return try value.decode(T.self)
        }
        id = try string("id")
        title = try string("title")
        profile = try RunProfile(parsing: try string("profile"))
        codeVersion = try string("codeVersion")
        paperSetting = try decoded("paperSetting", [Setting].self)
        ourSetting = try decoded("ourSetting", [Setting].self)
        referenceValues = try decoded("referenceValues", [ReferenceValue].self)
        guard let records = json["records"]?.arrayValue else { throw ExperimentError("artifact lacks 'records'") }
        entries = try records.map { r in
            guard let key = r["key"]?.stringValue, let configuration = r["configuration"] else {
                throw ExperimentError("artifact record lacks 'key' or 'configuration'")
            }
            return Entry(key: key, configuration: try Configuration(json: configuration), record: try ResultRecord(json: r))
        }
        tables = try decoded("tables", [ReportTable].self)
        comparisons = try decoded("comparisons", [Comparison].self)
        differences = try decoded("differences", [String].self)
        text = try string("text")
        figures = try decoded("figures", [String].self)
        // Artifacts written before the scoreboard have no claims; recompute from records.
        claims = try json["claims"].map { try $0.decode([ClaimResult].self) }
            ?? PaperClaims.evaluate(experiment: id, results: entries.map {
                ExperimentResult(configuration: $0.configuration, record: $0.record)
            })
        provenance = try decoded("provenance", Provenance.self)
    }

    public static func load(_ url: URL) throws -> ExperimentArtifact {
        do {
            return try ExperimentArtifact(json: try JSONValue.parse(contentsOf: url))
        } catch {
            throw ExperimentError("\(url.path): \(error)")
        }
    }

    /// The section of REPORT.md for this experiment.
    public var reportSection: ReportSection {
        var origins = Set<Origin>()
        for e in entries {
            e.record.values.forEach { origins.insert($0.origin) }
            e.record.series.forEach { origins.insert($0.origin) }
        }
        let compute = provenance.wallTimeSeconds
        let runLine = "profile \(profile.rawValue), \(entries.count) configuration\(entries.count == 1 ? "" : "s"), "
            + "\(String(format: "%.1f", compute)) s of compute, code version \(codeVersion)"
        return ReportSection(id: id, title: title, paperSetting: paperSetting, ourSetting: ourSetting,
                             comparisons: comparisons, differences: differences, text: text, tables: tables,
                             figures: figures, runLine: runLine, provenanceLine: provenance.summaryLine,
                             origins: origins)
    }
}
