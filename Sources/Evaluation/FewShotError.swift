/// A one-line description of why a task could not be loaded or scored.
public struct FewShotError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
