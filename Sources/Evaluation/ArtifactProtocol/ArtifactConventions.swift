import Foundation
import Policies

/// The switches of the artifact's accuracy protocol (docs/infinigen.md 1.6, read in
/// `snu-comparch/InfiniGen` accuracy/src/modeling_llama_ours.py and
/// accuracy/lm_eval/utils_lm_eval/modify_llama.py). The defaults are the artifact's
/// Llama path; flip one to see what that convention alone is worth.
public struct ArtifactConventions: Sendable, Equatable {
    /// How unselected positions of a managed row are removed from the softmax.
    public enum Masking: String, Sendable, Codable, CaseIterable {
        /// InfiniGen adds -10000 to them (its `m_inf`): a row that selects nothing then
        /// reads every position, since a uniform shift leaves the softmax unchanged.
        case additive
        /// Removed outright; a row that selects nothing reads its own token only.
        case exclude
    }

    /// Whose skewing matrix a query head uses.
    public enum Skewing: String, Sendable, Codable, CaseIterable {
        /// Each query head its own, from its own post-rotary calibration queries, applied to
        /// its group's keys. The artifact is multi-head (one KV head per query head);
        /// under masks nothing forces a group to share (no skewed cache is stored), so
        /// this is the faithful reading for grouped-query attention.
        case perQueryHead = "per-query-head"
        /// One per KV group (the decode path's `SkewingCalibration`: stacked queries).
        case perGroup = "per-group"
    }

    /// Where the partial columns' magnitudes come from.
    public enum ColumnSource: String, Sendable, Codable, CaseIterable {
        /// A short fixed COPA-style prompt, once (artifact: gen_partial_weight.py).
        case prompt
        /// The calibration text the skewing is computed on.
        case calibration
    }

    /// Query rows i < fetch_max = int(budget·L) read every earlier position (artifact:
    /// yes). Off: they take their top-k like every other row.
    public var fullLeadingRows = true
    /// The threshold of every head is query head 0's row max - alpha (artifact's Llama
    /// code: `torch.max(attn, -1)[0][0]`). Off: each head its own max (the OPT code).
    public var headZeroMax = true
    /// Each managed row also reads its own token (artifact: no; it is kept only if it is
    /// among the row's top-k).
    public var forceCurrentToken = false
    public var masking: Masking = .additive
    public var skewing: Skewing = .perQueryHead
    /// Partial columns: union of top-d' by |Q'| and top-d' by |K'| (artifact accuracy
    /// path). A spec's explicit `columns=` overrides it.
    public var columns: InfiniGenSettings.Columns = .union
    public var columnSource: ColumnSource = .prompt

    public init() {}

    /// The artifact's Llama defaults.
    public static let artifact = ArtifactConventions()

    /// One line naming every switch, for reports.
    public var summary: String {
        "full leading rows \(fullLeadingRows ? "on" : "off"), head-0 max \(headZeroMax ? "on" : "off"), "
            + "current token \(forceCurrentToken ? "forced" : "not forced"), masking \(masking.rawValue), "
            + "skewing \(skewing.rawValue), columns \(columns.rawValue) from the \(columnSource.rawValue)"
    }
}
