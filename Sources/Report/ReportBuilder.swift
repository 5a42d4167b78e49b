import Foundation

/// Writes artifacts/REPORT.md: one section per experiment, in the order given.
public struct ReportBuilder: Sendable {
    public var title = "InfiniGen reproduction report"
    /// Lines placed under the title (tool version, how to regenerate).
    public var preamble: [String] = []
    public var sections: [ReportSection] = []
    /// The claims scoreboard, placed first (empty: none).
    public var scoreboard: [ScoreboardRow] = []
    /// (id, title) of experiments with no outputs yet, listed at the end.
    public var notRun: [(id: String, title: String)] = []
    /// Path from the report's directory to the figures directory.
    public var figuresPath = "../figures"

    public init() {}

    public func markdown() -> String {
        var md = "# \(title)\n\n"
        for line in preamble { md += line + "\n" }
        if !preamble.isEmpty { md += "\n" }
        md += """
        Every number is labelled **measured** (computed by running the model and code on this \
        machine) or **modeled** (computed by the offload cost model for a simulated machine). \
        Paper numbers come from Lee et al., OSDI 2024 (arXiv 2406.19707) unless a note says otherwise.


        """
        if !scoreboard.isEmpty { md += scoreboardMarkdown() }
        if !sections.isEmpty {
            md += "## Contents\n\n"
            for s in sections { md += "- [\(s.id): \(cell(s.title))](#\(anchor(s.id)))\n" }
            md += "\n"
        }
        for s in sections { md += section(s) }
        if !notRun.isEmpty {
            md += "## Not run yet\n\n"
            for e in notRun { md += "- \(e.id): \(e.title)\n" }
            md += "\n"
        }
        return md
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(markdown(), to: url)
    }

    /// One row per paper claim: the paper's number, ours under each accuracy protocol, the
    /// verdict per condition and what it rests on.
    public func scoreboardMarkdown() -> String {
        var md = "## Claims scoreboard\n\n"
        md += "Each verdict is computed from the data by the rule in its last column and names its protocol "
            + "(`artifact`: the artifact's mask simulation over one full forward pass; `decode`: this engine, causal, "
            + "per-position budgets, reading only the selected rows) and GQA mode. Rows without a protocol are "
            + "full-cache measurements or modeled latencies.\n\n"
        let rows = scoreboard.map { r -> [String] in
            let free = r.protocolFree
            let freeText = free.map(ScoreboardRow.describe).joined(separator: "; ")
            let links = r.experiments.map { "[\($0)](#\(anchor($0)))" }.joined(separator: ", ")
            return [r.statement + (links.isEmpty ? "" : " (" + links + ")"), r.paper,
                    free.isEmpty ? r.cell(protocolName: "artifact") : "— (protocol-independent)",
                    free.isEmpty ? r.cell(protocolName: "decode") : freeText,
                    r.verdictSummary, r.dependsOn]
        }
        md += table(header: ["Claim", "Paper", "Ours: artifact protocol", "Ours: decode protocol", "Verdict", "Depends on"],
                    rows: rows)
        return md
    }

    private func section(_ s: ReportSection) -> String {
        var md = "<a id=\"\(anchor(s.id))\"></a>\n## \(s.id): \(s.title)\n\n"
        let kinds = Origin.allCases.filter { s.origins.contains($0) }.map(\.rawValue)
        if !kinds.isEmpty { md += "Numbers: **\(kinds.joined(separator: " and "))**.  \n" }
        if !s.runLine.isEmpty { md += "Run: \(s.runLine).  \n" }
        if !s.provenanceLine.isEmpty { md += "Provenance: \(s.provenanceLine).\n" }
        md += "\n"

        md += "### Setting: paper vs ours\n\n"
        md += table(header: ["", "Paper", "Ours"], rows: settingRows(s))

        if !s.comparisons.isEmpty {
            md += "### Numbers: paper vs ours\n\n"
            let rows = s.comparisons.map { c -> [String] in
                let unit = c.unit.isEmpty ? "" : " (\(c.unit))"
                return [c.quantity + unit, c.paper ?? "n/a", c.ours, c.origin.rawValue, c.note ?? ""]
            }
            md += table(header: ["Quantity", "Paper", "Ours", "Kind", "Note"], rows: rows)
        }

        let differences = s.differences + settingDifferences(s)
        if !differences.isEmpty {
            md += "### Differences from the paper\n\n"
            for d in differences { md += "- \(d)\n" }
            md += "\n"
        }

        for figure in s.figures {
            md += "![\(figure)](\(figuresPath)/\(figure).png)\n\n"
            md += "Figure files: [\(figure).svg](\(figuresPath)/\(figure).svg), [\(figure).gp](\(figuresPath)/\(figure).gp), [\(figure).dat](\(figuresPath)/\(figure).dat).\n\n"
        }
        for t in s.tables {
            md += "**\(cell(t.title))**\n\n"
            md += table(header: t.header, rows: t.rows)
        }
        let text = s.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty { md += text + "\n\n" }
        return md
    }

    /// Aspects in the paper's order, then aspects only we list.
    private func settingRows(_ s: ReportSection) -> [[String]] {
        var aspects = s.paperSetting.map(\.aspect)
        for a in s.ourSetting.map(\.aspect) where !aspects.contains(a) { aspects.append(a) }
        return aspects.map { a in
            [a, s.paperSetting.first { $0.aspect == a }?.value ?? "—", s.ourSetting.first { $0.aspect == a }?.value ?? "—"]
        }
    }

    /// The aspects whose values differ, named in one line so none goes unmentioned (the
    /// values themselves are in the setting table just above).
    private func settingDifferences(_ s: ReportSection) -> [String] {
        let differing = settingRows(s).filter { $0[1] != $0[2] }.map { $0[0] }
        return differing.isEmpty ? [] : ["The setting differs in: " + differing.joined(separator: ", ") + " (table above)."]
    }

    private func table(header: [String], rows: [[String]]) -> String {
        var md = "| " + header.map(cell).joined(separator: " | ") + " |\n"
        md += "|" + String(repeating: "---|", count: header.count) + "\n"
        for row in rows {
            let padded = row + Array(repeating: "", count: max(0, header.count - row.count))
            md += "| " + padded.map(cell).joined(separator: " | ") + " |\n"
        }
        return md + "\n"
    }

    private func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private func anchor(_ id: String) -> String {
        id.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
    }
}
