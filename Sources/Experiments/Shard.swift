/// `--shard i/n` (1-based): this process runs every n-th configuration.
///
/// Partition rule: all configurations of the selected experiments are numbered in one
/// global sequence (experiments in registry order, configurations in the order the spec
/// lists them); shard i takes the items whose global number j (0-based) has
/// j % n == i - 1. Round-robin keeps shards balanced even when one experiment dominates.
/// Every shard must therefore use the same experiment selection and profile (the shard
/// manifest records both and `merge` checks them).
public struct Shard: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (1...count).contains(index) else {
            throw ExperimentError("invalid shard \(index)/\(count): need 1 <= i <= n")
        }
        self.index = index
        self.count = count
    }

    /// Parses "i/n", e.g. "2/4".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ExperimentError("invalid shard '\(text)': expected i/n, e.g. 1/4")
        }
        try self.init(index: i, count: n)
    }

    public func contains(globalIndex j: Int) -> Bool { j % count == index - 1 }

    /// Directory name under artifacts/shards/, e.g. "2-of-4".
    public var directoryName: String { "\(index)-of-\(count)" }

    public var description: String { "\(index)/\(count)" }
}
