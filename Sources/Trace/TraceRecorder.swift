import Foundation

/// Collects records from the engine's worker threads.
public final class TraceRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var attention: [AttentionRecord] = []
    private var tokens: [TokenRecord] = []

    public init() {}

    public func add(_ record: AttentionRecord) {
        lock.lock(); attention.append(record); lock.unlock()
    }

    public func add(_ record: TokenRecord) {
        lock.lock(); tokens.append(record); lock.unlock()
    }

    /// Records in a deterministic order (position, layer, head), whatever thread wrote them.
    public var attentionRecords: [AttentionRecord] {
        lock.lock(); defer { lock.unlock() }
        return attention.sorted { ($0.position, $0.layer, $0.kvHead) < ($1.position, $1.layer, $1.kvHead) }
    }

    public var tokenRecords: [TokenRecord] {
        lock.lock(); defer { lock.unlock() }
        return tokens.sorted { $0.position < $1.position }
    }

    public func summary() -> TraceSummary { TraceSummary(attention: attentionRecords, tokens: tokenRecords) }
}
