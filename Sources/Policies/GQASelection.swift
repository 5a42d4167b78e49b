/// How a selecting policy serves grouped-query attention, where one KV head's rows serve
/// a group of query heads (docs/infinigen.md 1.7; SmolLM2: 3 query heads per KV head).
/// The paper's models have one KV head per query head, so each head fetches its own rows;
/// under GQA that is `perHead`, and the link then moves the union per KV head.
public enum GQASelection: String, Sendable, CaseIterable {
    /// One set per KV head, ranked by the max over the group's query heads' scores.
    case max
    /// One set per KV head, ranked by the sum over the group's query heads' scores.
    case sum
    /// Each query head reads its own set (of the policy's budget); the KV head fetches
    /// and is charged for their union.
    case perHead = "per-head"

    /// The `gqa` parameter of a selecting policy, with its default and the reason for it.
    static func parameter(default value: GQASelection, why: String) -> ParameterSpec {
        ParameterSpec("gqa", .choice(allCases.map(\.rawValue)), default: .text(value.rawValue),
                      help: "grouped-query selection: max or sum (one set per KV head ranked by the max/sum over its query heads' scores) or per-head (each query head its own set; the union per KV head is fetched and charged); default \(value.rawValue): \(why)")
    }

    init(_ values: ParameterValues) { self = GQASelection(rawValue: values.text("gqa"))! }

    /// Scores of one group's query heads (`rows` × `n`, row j at `scores + j * stride`)
    /// folded into one score per candidate (`max` or `sum`), into `out`.
    func fold(_ scores: UnsafePointer<Float>, rows: Int, stride: Int, n: Int, into out: inout [Float]) {
        out.removeAll(keepingCapacity: true)
        for p in 0..<n {
            var s = scores[p]
            for j in 1..<Swift.max(rows, 1) {
                s = self == .max ? Swift.max(s, scores[j * stride + p]) : s + scores[j * stride + p]
            }
            out.append(s)
        }
    }
}
