import Foundation

/// Shared memo of BPE results per pre-tokenized word.
///
/// Keys are raw UTF-8 bytes, not Strings: Swift String equality is canonical
/// equivalence, which would conflate "é" with "e\u{301}" (different tokens).
/// Bounded by emptying when full: simple, and words recur quickly in text.
final class WordCache: @unchecked Sendable {
    private var entries: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()
    private let capacity: Int

    init(capacity: Int = 200_000) { self.capacity = capacity }

    func get(_ word: [UInt8]) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return entries[word]
    }

    func set(_ word: [UInt8], _ ids: [Int32]) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[word] = ids
    }
}
