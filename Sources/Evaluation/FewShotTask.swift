/// A multiple-choice task: items scored by log-likelihood ranking.
public struct FewShotTask: Codable, Sendable {
    public var name: String
    /// Number of in-context examples in each prompt.
    public var shots: Int
    public var items: [FewShotItem]
    /// Evaluate only the first `limit` items (nil: all of them).
    public var limit: Int?
    /// Where the prompts come from and how they were built.
    public var notes: String

    public init(name: String, shots: Int, items: [FewShotItem], limit: Int? = nil, notes: String) {
        self.name = name
        self.shots = shots
        self.items = items
        self.limit = limit
        self.notes = notes
    }

    /// The items an evaluation scores.
    public var evaluatedItems: ArraySlice<FewShotItem> {
        items.prefix(max(0, limit ?? items.count))
    }
}
