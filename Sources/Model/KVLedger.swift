/// The one place that prices KV reads, for every experiment (the probe's link bytes,
/// few-shot's relative KV size): a row of a layer the policy does not manage (the spared
/// layers, or every layer without a policy) is stored at fp16 K+V — the cache's storage
/// precision, whatever the policy does to the layers it manages (quantization spares
/// layers 0-1) — and a managed row costs what the policy's `TransferCost` says.
public enum KVLedger {
    /// K and V of one row of one KV head at fp16.
    public static func storedRowBytes(headDim: Int) -> Double { Double(4 * headDim) }

    /// Bytes crossing the host-to-device link for one (layer, KV head, step) that read
    /// `rows` cached rows (the query's own excluded). A resident cache moves nothing.
    public static func linkBytes(rows: Int, managed: Bool, transfer: TransferCost, headDim: Int) -> Double {
        if transfer == .resident { return 0 }
        return managed ? transfer.bytes(rowsRead: rows, headDim: headDim) : Double(rows) * storedRowBytes(headDim: headDim)
    }

    /// Bytes read from the cache wherever it lives: as `linkBytes`, with a resident
    /// cache's rows priced at fp16 (what reading them costs, even if nothing crosses).
    public static func readBytes(rows: Int, managed: Bool, transfer: TransferCost, headDim: Int) -> Double {
        let cost: TransferCost = transfer == .resident ? .rows(bytesPerRow: nil, extraBytesPerStep: 0) : transfer
        return linkBytes(rows: rows, managed: managed, transfer: cost, headDim: headDim)
    }

    /// What every earlier row at fp16 would cost: the denominator of a relative KV size.
    public static func fullBytes(rows: Int, headDim: Int) -> Double { Double(rows) * storedRowBytes(headDim: headDim) }
}
