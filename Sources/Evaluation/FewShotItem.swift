/// One multiple-choice question, ready to score: choice `i` is scored by
/// log P(continuations[i] | contexts[i]).
///
/// Most tasks share one context and differ in the continuation; WinoGrande is the
/// other way round (the choice is inside the context, the continuation is shared),
/// hence one context per choice.
public struct FewShotItem: Codable, Sendable, Equatable {
    /// doc_id for the request files, the row index for COPA and RTE.
    public var id: Int
    public var contexts: [String]
    public var continuations: [String]
    /// Index of the correct choice.
    public var gold: Int

    public var choiceCount: Int { continuations.count }

    public init(id: Int, contexts: [String], continuations: [String], gold: Int) throws {
        guard contexts.count == continuations.count, contexts.count >= 2 else {
            throw FewShotError("item \(id): needs at least 2 choices with one context each "
                + "(got \(contexts.count) contexts, \(continuations.count) continuations)")
        }
        guard (0..<contexts.count).contains(gold) else {
            throw FewShotError("item \(id): gold \(gold) is not a choice index (0..<\(contexts.count))")
        }
        if let empty = contexts.indices.first(where: { contexts[$0].isEmpty || continuations[$0].isEmpty }) {
            throw FewShotError("item \(id): choice \(empty) has an empty context or continuation")
        }
        self.id = id
        self.contexts = contexts
        self.continuations = continuations
        self.gold = gold
    }
}
