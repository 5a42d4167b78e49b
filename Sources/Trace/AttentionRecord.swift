/// What one KV head of one layer read for one query position, and how close that came to
/// full attention. Written by the engine's probe; consumed by the summaries, the offload
/// simulator (tokens read per layer and step) and the experiments.
public struct AttentionRecord: Codable, Sendable, Equatable {
    public var position: Int
    public var layer: Int
    public var kvHead: Int
    /// Whether a policy chose the rows (false: a spared layer or a prompt position that
    /// read everything).
    public var managed: Bool
    /// Cached rows read, the query's own row excluded.
    public var rowsRead: Int
    /// Rows that were available (= position).
    public var rowsAvailable: Int
    /// Bytes that cross the host-to-device link for these rows (0 when resident).
    public var linkBytes: Double
    /// |read ∩ exact top-k| / k with k = rowsRead, averaged over the group's query heads.
    public var recall: Double
    /// Full-attention probability mass on the rows read (own row included), averaged.
    public var mass: Double
    /// Cosine similarity of the attention output to full attention's, averaged.
    public var cosine: Double
    /// Cached rows each query head of the group attended over, averaged: `rowsRead` when
    /// the group shares one selection, less when each query head reads its own subset of
    /// the union (`rowsRead` and `linkBytes` count the union, what the link moves).
    public var queryHeadRowsRead: Double

    public init(position: Int, layer: Int, kvHead: Int, managed: Bool, rowsRead: Int, rowsAvailable: Int,
                linkBytes: Double, recall: Double, mass: Double, cosine: Double, queryHeadRowsRead: Double? = nil) {
        self.position = position
        self.layer = layer
        self.kvHead = kvHead
        self.managed = managed
        self.rowsRead = rowsRead
        self.rowsAvailable = rowsAvailable
        self.linkBytes = linkBytes
        self.recall = recall
        self.mass = mass
        self.cosine = cosine
        self.queryHeadRowsRead = queryHeadRowsRead ?? Double(rowsRead)
    }
}

/// Per scored token: the policy's next-token distribution against the full cache's.
public struct TokenRecord: Codable, Sendable, Equatable {
    public var position: Int
    /// KL(full ‖ policy) in nats.
    public var kl: Double
    /// Whether both distributions have the same most likely token.
    public var top1Agrees: Bool
    /// Negative log-likelihood of the actual next token under the policy and under full.
    public var nll: Double
    public var nllFull: Double

    public init(position: Int, kl: Double, top1Agrees: Bool, nll: Double, nllFull: Double) {
        self.position = position
        self.kl = kl
        self.top1Agrees = top1Agrees
        self.nll = nll
        self.nllFull = nllFull
    }
}
