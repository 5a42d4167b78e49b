/// Where a number comes from. Every number the workbench reports carries one.
public enum Origin: String, Sendable, Codable, CaseIterable {
    /// Computed by running the real model / code on this machine (accuracy, perplexity,
    /// similarity, or a wall-clock time that was actually timed).
    case measured
    /// Computed by the offload cost model (simulated hardware), not observed.
    case modeled
}
