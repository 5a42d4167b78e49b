import Foundation

/// A number of cached tokens given either as a fraction of the sequence or as an absolute
/// count, resolved per query position.
///
/// For the query at `position` the sequence holds `position + 1` tokens (the query's own
/// included); the cache the policy chooses from holds the `position` earlier ones. The
/// fraction applies to the sequence length and is rounded up; the result counts cached
/// tokens only (the query's own row is always read besides) and never exceeds `position`.
///
/// Rounding up (the artifact's `int()` rounds down, but over the whole input's length)
/// gives a nonzero fraction at least one token: rounded down, the first positions of a
/// teacher-forced run would meet a zero budget, and a policy that evicts for good (H2O)
/// would lose the first tokens — attention sinks included — before any budget existed.
struct TokenBudget: Sendable, Equatable {
    /// Fraction of the sequence (used when `tokens` is 0).
    let fraction: Double
    /// Absolute count; 0 means "use `fraction`".
    let tokens: Int

    init(fraction: Double, tokens: Int = 0) {
        self.fraction = fraction
        self.tokens = tokens
    }

    @inline(__always)
    func count(at position: Int) -> Int {
        // The epsilon keeps 0.1 * 30 = 3.0000000000000004 from rounding up to 4.
        let n = tokens > 0 ? tokens : Int((fraction * Double(position + 1) - 1e-9).rounded(.up))
        return max(0, min(n, position))
    }

    /// "0.1 of the sequence" or "400 tokens", for summaries and errors.
    var description: String { tokens > 0 ? "\(tokens) tokens" : "\(fraction) of the sequence" }
}
