import Foundation
import Model
import Numerics

/// The upper bound for any speculation: it ranks cached tokens by their true attention
/// logits, computed from the real queries and the real keys (its own copy, taken from
/// `observeKeys`), and reads the best ones.
///
/// Grouped-query attention (`gqa`): a token's rank is its logit summed (`sum`, default)
/// or maxed (`max`) over the query heads of the KV group, one selection serving the
/// group; or (`per-head`) each query head takes its own best by its own logit and the KV
/// head reads their union.
/// - top-k (default): the `k` best cached tokens, or `budget` of the sequence (rounded
///   up, `TokenBudget`) when `k` is 0; ties go to the earlier position.
/// - top-p (`top-p` > 0; `budget` and `k` are then ignored): per query head, the softmax
///   over every cached token and the query's own; averaged over the group; the fewest
///   cached tokens, most probable first (ties: earlier), whose mass together with the
///   query's own row reaches `top-p` (1: everything). `max` ranks by the group's largest
///   probability instead of the mean; `per-head` runs each head's own nucleus.
public final class OracleMethod: KVMethod {
    public static let name = "oracle"
    public static let summary = "exact top-k (default 0.2 of the sequence) or top-p by the true attention logits (upper bound for speculation)"
    public static let parameters: [ParameterSpec] = [
        ParameterSpec("budget", .real(0...1), default: .real(0.2),
                      help: "tokens read as a fraction of the sequence (cached tokens, rounded up)"),
        ParameterSpec("k", .integer(0...1_000_000), default: .integer(0), help: "tokens read (0: use 'budget')"),
        ParameterSpec("top-p", .real(0...1), default: .real(0),
                      help: "read the fewest tokens holding this much attention mass instead (0: off, use top-k)"),
        GQASelection.parameter(default: .sum, why: "the summed logit is the group's joint attention score, the natural bound for one shared set (kept from the first version)"),
    ]

    let budget: TokenBudget
    let topP: Double
    let spare: Int
    let gqa: GQASelection
    let config: LlamaConfig

    public init(model: LlamaModel, parameters: ParameterValues, context: MethodContext) throws {
        budget = TokenBudget(fraction: parameters.real("budget"), tokens: parameters.integer("k"))
        topP = parameters.real("top-p")
        spare = parameters.integer("spare")
        gqa = GQASelection(parameters)
        config = model.config
    }

    public func makePolicy() -> KVPolicy {
        OraclePolicy(config: config, budget: budget, topP: topP, firstManagedLayer: spare, gqa: gqa)
    }
}

final class OraclePolicy: KVPolicy {
    let name = OracleMethod.name
    let firstManagedLayer: Int
    private let budget: TokenBudget
    private let topP: Double
    private let gqa: GQASelection
    private let kvHeads: Int
    private let groupSize: Int
    private let headDim: Int
    /// Keys per (layer, KV head), `positions × headDim`, in position order.
    private var keys: [[Float]]
    private var logits: [Float] = []
    private var probabilities: [Float] = []
    private var order: [Int32] = []
    private var chosen: [Int32] = []
    private var topK = TopK()

    /// Kept for `fork`.
    private let config: LlamaConfig

    init(config: LlamaConfig, budget: TokenBudget, topP: Double, firstManagedLayer: Int, gqa: GQASelection = .sum) {
        self.config = config
        self.budget = budget
        self.topP = topP
        self.gqa = gqa
        self.firstManagedLayer = firstManagedLayer
        kvHeads = config.kvHeads
        groupSize = config.groupSize
        headDim = config.headDim
        keys = Array(repeating: [], count: config.layers * config.kvHeads)
    }

    func observeKeys(layer: Int, position: Int, keys k: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        let d = headDim
        for h in 0..<kvHeads {
            let i = layer * kvHeads + h
            precondition(keys[i].count == position * d, "oracle: keys must arrive in position order")
            keys[i].append(contentsOf: UnsafeBufferPointer(start: k + h * d, count: d))
        }
    }

    func select(layer: Int, position t: Int, queries: UnsafePointer<Float>, selection: Selection) {
        let count = budget.count(at: t)
        // top-p 1 is all of it (summed float probabilities may reach 1 a token early).
        if topP >= 1 || (topP <= 0 && count >= t) { selection.readAll(); return }
        for h in 0..<kvHeads {
            if gqa == .perHead {
                let lists = (0..<groupSize).map { j in
                    topP > 0 ? nucleus(layer: layer, kvHead: h, position: t, queries: queries, heads: j..<(j + 1))
                             : best(count, layer: layer, kvHead: h, position: t, queries: queries, heads: j..<(j + 1))
                }
                if lists.allSatisfy({ $0.count == t }) { selection.set(h, nil) } else { selection.setPerHead(h, lists) }
                continue
            }
            let list = topP > 0 ? nucleus(layer: layer, kvHead: h, position: t, queries: queries, heads: 0..<groupSize)
                                : best(count, layer: layer, kvHead: h, position: t, queries: queries, heads: 0..<groupSize)
            selection.set(h, list.count == t ? nil : list)
        }
    }

    /// Top-k by the logits of `heads` (indices within the group) summed, or maxed under
    /// `gqa=max`.
    private func best(_ count: Int, layer: Int, kvHead h: Int, position t: Int, queries: UnsafePointer<Float>,
                      heads: Range<Int>) -> [Int32] {
        let d = headDim
        logits.removeAll(keepingCapacity: true)
        keys[layer * kvHeads + h].withUnsafeBufferPointer { kb in
            for p in 0..<t {
                var s: Float = gqa == .max ? -.infinity : 0
                for j in heads {
                    let x = Kernels.dot(queries + (h * groupSize + j) * d, kb.baseAddress! + p * d, d)
                    s = gqa == .max ? max(s, x) : s + x
                }
                logits.append(s)
            }
        }
        logits.withUnsafeBufferPointer { topK.select(count, of: t, scores: $0.baseAddress!, into: &chosen) }
        return chosen
    }

    /// Top-p by the mean attention probability of `heads` (their max under `gqa=max`), the
    /// query's own row counted first.
    private func nucleus(layer: Int, kvHead h: Int, position t: Int, queries: UnsafePointer<Float>,
                         heads: Range<Int>) -> [Int32] {
        let d = headDim, n = t + 1
        let scale = 1 / Float(d).squareRoot()
        probabilities.removeAll(keepingCapacity: true)
        probabilities.append(contentsOf: repeatElement(0, count: n))
        logits.removeAll(keepingCapacity: true)
        logits.append(contentsOf: repeatElement(0, count: n))
        keys[layer * kvHeads + h].withUnsafeBufferPointer { kb in
            logits.withUnsafeMutableBufferPointer { l in
                probabilities.withUnsafeMutableBufferPointer { pr in
                    for j in heads {
                        let q = queries + (h * groupSize + j) * d
                        for p in 0..<n { l[p] = Kernels.dot(q, kb.baseAddress! + p * d, d) * scale }
                        Kernels.softmax(l.baseAddress!, n)
                        if gqa == .max {
                            for p in 0..<n { pr[p] = max(pr[p], l[p]) }
                        } else {
                            for p in 0..<n { pr[p] += l[p] / Float(heads.count) }
                        }
                    }
                }
            }
        }
        var mass = Double(probabilities[t])
        order.removeAll(keepingCapacity: true)
        for p in 0..<t { order.append(Int32(p)) }
        order.sort { a, b in
            let pa = probabilities[Int(a)], pb = probabilities[Int(b)]
            return pa != pb ? pa > pb : a < b
        }
        chosen.removeAll(keepingCapacity: true)
        for p in order {
            if mass >= topP { break }
            chosen.append(p)
            mass += Double(probabilities[Int(p)])
        }
        chosen.sort()
        return chosen
    }
}

extension OraclePolicy {
    /// Copies its key cache (the scratch buffers start empty).
    func fork() -> KVPolicy {
        let copy = OraclePolicy(config: config, budget: budget, topP: topP, firstManagedLayer: firstManagedLayer, gqa: gqa)
        copy.keys = keys
        return copy
    }
}

extension OracleMethod {
    public static var examples: PolicyExamples {
        .budgeted([
            .init("oracle:k=5") { min($0, 5) },
            .init("oracle:budget=0.25,spare=1") { PolicyExamples.ceilFraction(0.25, $0) },
        ], unbudgeted: ["oracle:top-p=0.9"], unbounded: "oracle:budget=1")
    }
}
