/// A one-line, human-readable failure of the reporting layer.
public struct ReportError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
