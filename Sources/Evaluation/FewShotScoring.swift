/// How a choice's tokens go through the engine. Both score exactly the same positions;
/// the last continuation token is never fed (its prediction is not needed), as in lm-eval.
public enum FewShotScoring: String, Codable, Sendable, CaseIterable {
    /// Teacher-forced: one forward per choice over context + continuation with `.all`
    /// logits (the accuracy-study default).
    case wholeSequence
    /// Two forwards per choice on the same sequence: the context with `.last` logits, then
    /// the continuation with `.all`. Same positions, same policy hooks in the same
    /// per-layer order, but the output head runs only on the rows that are scored
    /// (about a fifth of the compute of a 135M model, and far less logits memory).
    case contextThenContinuation
}
