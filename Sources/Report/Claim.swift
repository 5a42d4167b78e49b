/// What the data say about one of the paper's claims under one condition.
public enum ClaimVerdict: String, Sendable, Codable, CaseIterable {
    case holds = "holds"
    case partly = "holds in part"
    case doesNotHold = "does not hold"
    /// The difference is inside two standard errors (or too few points to tell).
    case notResolved = "not resolved at this sample size"
}

/// One claim tested under one condition (protocol, GQA mode), computed from an
/// experiment's records. `protocolName` nil: the number does not depend on an accuracy
/// protocol (a full-cache measurement, or a modeled latency).
public struct ClaimResult: Sendable, Equatable, Codable {
    /// Key into the catalog of paper claims (e.g. "fig12").
    public var claim: String
    public var protocolName: String?
    /// "max", "sum", "per-head" or nil where the numbers do not select per GQA group.
    public var gqa: String?
    /// Our number(s), formatted.
    public var ours: String
    public var verdict: ClaimVerdict
    /// Model, data and sample size the verdict rests on.
    public var sample: String
    /// The criterion applied, and what else the verdict depends on.
    public var criterion: String

    public init(claim: String, protocolName: String?, gqa: String?, ours: String, verdict: ClaimVerdict,
                sample: String, criterion: String) {
        self.claim = claim
        self.protocolName = protocolName
        self.gqa = gqa
        self.ours = ours
        self.verdict = verdict
        self.sample = sample
        self.criterion = criterion
    }

    /// "artifact, gqa=max" / "decode" / "" for the condition column.
    public var condition: String {
        [protocolName, gqa.map { "gqa=\($0)" }].compactMap { $0 }.joined(separator: ", ")
    }
}

/// One row of the report's claims scoreboard: a paper claim, its number, and what each
/// protocol gives here.
public struct ScoreboardRow: Sendable, Equatable {
    public var claim: String
    public var statement: String
    public var paper: String
    public var results: [ClaimResult]
    /// Experiment ids the claim is tested by (for links).
    public var experiments: [String]

    public init(claim: String, statement: String, paper: String, results: [ClaimResult], experiments: [String]) {
        self.claim = claim
        self.statement = statement
        self.paper = paper
        self.results = results
        self.experiments = experiments
    }

    /// The cell for one protocol: every result under it ("value: verdict", per GQA mode).
    /// Results without a protocol fill the cells of both protocols' columns only once, in
    /// `protocolFree`.
    public func cell(protocolName: String) -> String {
        let rs = results.filter { $0.protocolName == protocolName }
        return rs.isEmpty ? "not run" : rs.map(Self.describe).joined(separator: "; ")
    }

    public var protocolFree: [ClaimResult] { results.filter { $0.protocolName == nil } }

    static func describe(_ r: ClaimResult) -> String {
        (r.gqa.map { "gqa=\($0): " } ?? "") + r.ours + " — **" + r.verdict.rawValue + "**"
    }

    /// One line for the verdict column: a single verdict when every condition agrees,
    /// otherwise the verdict per condition (never a blend).
    public var verdictSummary: String {
        guard !results.isEmpty else { return "not run" }
        let verdicts = Set(results.map(\.verdict))
        if verdicts.count == 1 { return results[0].verdict.rawValue }
        return results.map { "\($0.condition.isEmpty ? "—" : $0.condition): \($0.verdict.rawValue)" }.joined(separator: "; ")
    }

    /// Criteria and samples, deduplicated in order.
    public var dependsOn: String {
        var seen: [String] = []
        for r in results {
            for s in [r.criterion, r.sample] where !s.isEmpty && !seen.contains(s) { seen.append(s) }
        }
        return seen.joined(separator: " ")
    }
}
