/// How UVM chooses pages to evict when device memory is full.
public enum UVMEviction: String, Codable, Sendable {
    /// Pages that fit stay resident; each step only the overflow cycles
    /// through (the best any policy can do on a cyclic access pattern).
    case belady
    /// Least-recently-used: on a cyclic pattern larger than memory every
    /// touched page faults every step.
    case lru
}

/// Knobs of the schedules. Defaults follow the paper's descriptions; the
/// `artifact` preset follows the scripts that produced its figures.
public struct ScheduleOptions: Codable, Sendable, Equatable {
    /// FlexGen-family overlap of loads with compute. The FlexGen paper
    /// overlaps; the artifact's scripts pass `--overlap false`.
    public var overlapIO = true
    /// Whether the host KV home is pinned. The artifact allocates it with
    /// `pin_memory=False`, so every load first copies into a pinned relay.
    public var hostKVPinned = false
    /// InfiniGen layers that always read the whole cache (layers 0 and 1).
    public var denseLeadingLayers = 2
    /// Partial weight ratio d'/head_dim for speculation.
    public var partialWeightRatio = 0.2
    /// infinigen-paper: the selected rows are gathered on the host into a
    /// pinned buffer before the DMA (true), or read by the link directly.
    public var paperHostGather = true
    /// FlexGen+H2O: heavy hitters = ratio x prompt, cache = multiple x heavy.
    public var h2oHeavyRatio = 0.1
    public var h2oCacheMultiple = 2.0
    /// UVM+H2O in the artifact keeps ratio x prompt tokens.
    public var uvmH2ORatio = 0.2
    public var uvmEviction = UVMEviction.belady
    /// UVM prefill as the artifact runs it: the causal mask is built as an
    /// fp32 tensor on the host and copied over, and eager PyTorch keeps about
    /// 12 bytes per attention score alive (fp16 scores, fp32 mask, fp32 sum,
    /// fp32 softmax). False: fused prefill with 6 bytes per score, no mask copy.
    public var uvmArtifactPrefill = true
    /// Tokens the artifact's UVM attention preallocates per sequence (2048);
    /// nil allocates prompt + generated tokens.
    public var uvmPreallocTokens: Int? = 2048
    public var quantBits = 4
    public var quantGroupSize = 64
    /// Overrides the model's weight_on_device_fraction.
    public var weightOnDeviceFraction: Double?
    /// Steps kept in the drawable timeline; nil keeps prefill, the first and
    /// the last decode step.
    public var timelineSteps: [Int]?

    public init() {}

    /// The artifact's settings for figures 14-17.
    public static var artifact: ScheduleOptions {
        var options = ScheduleOptions()
        options.overlapIO = false
        return options
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ScheduleOptions()
        overlapIO = try c.decodeIfPresent(Bool.self, forKey: .overlapIO) ?? d.overlapIO
        hostKVPinned = try c.decodeIfPresent(Bool.self, forKey: .hostKVPinned) ?? d.hostKVPinned
        denseLeadingLayers = try c.decodeIfPresent(Int.self, forKey: .denseLeadingLayers) ?? d.denseLeadingLayers
        partialWeightRatio = try c.decodeIfPresent(Double.self, forKey: .partialWeightRatio) ?? d.partialWeightRatio
        paperHostGather = try c.decodeIfPresent(Bool.self, forKey: .paperHostGather) ?? d.paperHostGather
        h2oHeavyRatio = try c.decodeIfPresent(Double.self, forKey: .h2oHeavyRatio) ?? d.h2oHeavyRatio
        h2oCacheMultiple = try c.decodeIfPresent(Double.self, forKey: .h2oCacheMultiple) ?? d.h2oCacheMultiple
        uvmH2ORatio = try c.decodeIfPresent(Double.self, forKey: .uvmH2ORatio) ?? d.uvmH2ORatio
        uvmEviction = try c.decodeIfPresent(UVMEviction.self, forKey: .uvmEviction) ?? d.uvmEviction
        uvmArtifactPrefill = try c.decodeIfPresent(Bool.self, forKey: .uvmArtifactPrefill) ?? d.uvmArtifactPrefill
        uvmPreallocTokens = try c.decodeIfPresent(Int.self, forKey: .uvmPreallocTokens) ?? d.uvmPreallocTokens
        quantBits = try c.decodeIfPresent(Int.self, forKey: .quantBits) ?? d.quantBits
        quantGroupSize = try c.decodeIfPresent(Int.self, forKey: .quantGroupSize) ?? d.quantGroupSize
        weightOnDeviceFraction = try c.decodeIfPresent(Double.self, forKey: .weightOnDeviceFraction)
        timelineSteps = try c.decodeIfPresent([Int].self, forKey: .timelineSteps)
    }

    func validate() throws {
        func fail(_ s: String) -> OffloadError { .invalidOptions(s) }
        if denseLeadingLayers < 0 { throw fail("dense leading layers must be >= 0") }
        if !(partialWeightRatio > 0 && partialWeightRatio <= 1) { throw fail("partial weight ratio must be in (0, 1]") }
        if !(h2oHeavyRatio > 0 && h2oHeavyRatio <= 1) { throw fail("h2o heavy ratio must be in (0, 1]") }
        if !(h2oCacheMultiple >= 1) { throw fail("h2o cache multiple must be >= 1") }
        if !(uvmH2ORatio > 0 && uvmH2ORatio <= 1) { throw fail("uvm h2o ratio must be in (0, 1]") }
        if let p = uvmPreallocTokens, p < 1 { throw fail("uvm prealloc tokens must be >= 1") }
        if !(1...8).contains(quantBits) { throw fail("quant bits must be in 1...8") }
        if quantGroupSize < 1 { throw fail("quant group size must be >= 1") }
        if let f = weightOnDeviceFraction, !(f > 0 && f <= 1) { throw fail("weight on device fraction must be in (0, 1]") }
    }
}
