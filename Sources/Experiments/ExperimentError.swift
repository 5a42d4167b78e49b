/// A one-line, human-readable failure of the experiment machinery.
public struct ExperimentError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
