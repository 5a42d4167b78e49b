/// What is generated: `batch` sequences, each a prompt of `promptLength`
/// tokens followed by `generateLength` new tokens. The first new token comes
/// out of prefill, so there are `generateLength - 1` decode steps (as in the
/// artifact's timing loops).
public struct Workload: Codable, Sendable, Equatable {
    public var batch: Int
    public var promptLength: Int
    public var generateLength: Int

    public init(batch: Int, promptLength: Int, generateLength: Int) {
        self.batch = batch
        self.promptLength = promptLength
        self.generateLength = generateLength
    }

    public var decodeSteps: Int { generateLength - 1 }

    /// Tokens already in the KV cache when decode step `step` (1-based) runs.
    public func cachedTokens(atDecodeStep step: Int) -> Int { promptLength + step - 1 }

    public func validate() throws {
        if batch < 1 { throw OffloadError.invalidWorkload("batch must be at least 1 (got \(batch))") }
        if promptLength < 1 { throw OffloadError.invalidWorkload("prompt length must be at least 1 (got \(promptLength))") }
        if generateLength < 1 { throw OffloadError.invalidWorkload("generate length must be at least 1 (got \(generateLength))") }
        // Far beyond any experiment, and keeps integer products of sizes in range.
        if batch > 1 << 20 { throw OffloadError.invalidWorkload("batch must be at most \(1 << 20) (got \(batch))") }
        if promptLength > 1 << 24 || generateLength > 1 << 24 {
            throw OffloadError.invalidWorkload("prompt and generate lengths must be at most \(1 << 24) tokens")
        }
    }
}
