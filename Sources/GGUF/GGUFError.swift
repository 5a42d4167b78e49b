/// Every failure in this module: one line naming the file (or component), what was being
/// read, and where, so a user can act on it without a debugger.
public struct GGUFError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case io                 // open/stat/mmap/write failed
        case badMagic           // not a GGUF file
        case unsupportedVersion // GGUF v1 or a future version
        case truncated          // something extends past the end of the file
        case invalid            // structurally wrong (bad dims, alignment, duplicate names, ...)
        case unknownType        // an id that is not a known GGUF value type or ggml type
        case unsupported        // a known type this module cannot decode or encode
        case missingKey         // a metadata key that is not present
        case wrongType          // a metadata value of an unexpected type
        case invalidArgument    // a caller passed something inconsistent
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
