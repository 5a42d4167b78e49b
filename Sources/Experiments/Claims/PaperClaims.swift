import Foundation
import Report

/// The paper's claims, one row each in the report's scoreboard, and the experiments that
/// test them. Verdicts come from `ClaimRules`, computed from the records.
public enum PaperClaims {
    public struct Entry: Sendable {
        public var id: String
        public var statement: String
        public var paper: String
        public var experiments: [String]
    }

    public static let catalog: [Entry] = [
        Entry(id: "sparsity", statement: "Attention is sparse: a small share of the tokens holds most of the attention",
              paper: "section 3 (OPT-6.7B/13B)", experiments: ["motivation"]),
        Entry(id: "similarity", statement: "Consecutive layers' attention inputs are similar enough to speculate",
              paper: "section 3: cosine ~0.9+", experiments: ["motivation"]),
        Entry(id: "skewing-energy", statement: "Skewing concentrates query/key energy in a few columns",
              paper: "figure 7 (qualitative)", experiments: ["speculation-quality"]),
        Entry(id: "fig4", statement: "Optimal top-k keeps attention output closer to full than H2O in every layer",
              paper: "figure 4 (OPT-6.7B)", experiments: ["fig4"]),
        Entry(id: "fig11", statement: "At equal KV size InfiniGen is more accurate than H2O and quantization",
              paper: "figure 11: near full-cache accuracy", experiments: ["fig11"]),
        Entry(id: "fig12", statement: "InfiniGen tracks the full cache's chunk perplexity more closely than H2O (1.875%)",
              paper: "figure 12", experiments: ["fig12"]),
        Entry(id: "fig13", statement: "Skewing improves accuracy (partial ratio 0.1, 20% budget)",
              paper: "figure 13: up to tens of points", experiments: ["fig13"]),
        Entry(id: "table2", statement: "With an 80% host pool Counter eviction stays close to the 100% pool and beats FIFO/LRU",
              paper: "table 2", experiments: ["table2"]),
        Entry(id: "fig14", statement: "Speedup over prior KV-cache management methods in an offloading system",
              paper: "up to 3.00x (abstract, figure 14)", experiments: ["fig14"]),
        Entry(id: "fig15", statement: "InfiniGen is the fastest offloading scheme at every batch size (4-20)",
              paper: "figure 15", experiments: ["fig15"]),
        Entry(id: "fig16a", statement: "InfiniGen is the fastest FlexGen-family scheme at every prompt length",
              paper: "figure 16a", experiments: ["fig16a"]),
        Entry(id: "fig16b", statement: "InfiniGen is the fastest FlexGen-family scheme for OPT-6.7B/13B/30B",
              paper: "figure 16b", experiments: ["fig16b"]),
        Entry(id: "fig17-latency", statement: "Latency rises with alpha and with the partial ratio (sensitivity)",
              paper: "figure 17", experiments: ["fig17-latency"]),
        Entry(id: "fig17-accuracy", statement: "Accuracy saturates by alpha ~5 at ratio 0.2 (sensitivity)",
              paper: "figure 17", experiments: ["fig17-accuracy"]),
        Entry(id: "speculation-overhead", statement: "Speculation's own cost is small next to a decode step",
              paper: "section 5 / 6", experiments: []),
    ]

    /// Claims an experiment's records test, per condition.
    public static func evaluate(experiment id: String, results: [ExperimentResult]) -> [ClaimResult] {
        guard !results.isEmpty else { return [] }
        switch id {
        case "motivation": return ClaimRules.motivation(results)
        case "speculation-quality": return ClaimRules.skewingEnergy(results)
        case "fig4": return ClaimRules.fig4(results)
        case "fig11": return ClaimRules.fig11(results)
        case "fig12": return ClaimRules.fig12(results)
        case "fig13": return ClaimRules.fig13(results)
        case "table2": return ClaimRules.table2(results)
        case "fig14": return ClaimRules.fig14(results)
        case "fig15", "fig16a", "fig16b": return ClaimRules.fastestEverywhere(id, results)
        case "fig17-latency": return ClaimRules.fig17Latency(results)
        case "fig17-accuracy": return ClaimRules.fig17Accuracy(results)
        default: return []
        }
    }

    /// Scoreboard rows in catalog order; claims whose experiments are not registered are
    /// left out, those not run yet say so.
    public static func scoreboard(_ claims: [ClaimResult], registered: Set<String>) -> [ScoreboardRow] {
        catalog.compactMap { e in
            if !e.experiments.isEmpty && !e.experiments.contains(where: registered.contains) { return nil }
            return ScoreboardRow(claim: e.id, statement: e.statement, paper: e.paper,
                                 results: claims.filter { $0.claim == e.id }, experiments: e.experiments)
        }
    }
}
