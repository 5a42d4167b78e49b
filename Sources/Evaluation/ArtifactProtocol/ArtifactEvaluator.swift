import Foundation
import Model
import Numerics
import Policies
import Tokenizer

/// What the artifact protocol needs besides the model: the calibration text of the
/// skewing and the prompt the partial columns are chosen on, as token ids.
public struct ArtifactContext: Sendable {
    public var calibrationTokens: @Sendable () throws -> [Int]
    public var promptTokens: @Sendable () throws -> [Int]

    public init(calibrationTokens: @escaping @Sendable () throws -> [Int],
                promptTokens: @escaping @Sendable () throws -> [Int]) {
        self.calibrationTokens = calibrationTokens
        self.promptTokens = promptTokens
    }

    /// The decode path's calibration text, and `ArtifactSkewing.columnPrompt` tokenized.
    public init(methodContext: MethodContext, tokenizer: BPETokenizer) {
        self.init(calibrationTokens: methodContext.calibrationTokens,
                  promptTokens: { tokenizer.encode(ArtifactSkewing.columnPrompt) })
    }
}

/// The artifact's accuracy protocol (docs/infinigen.md 1.6): every input is one full
/// forward pass with the method's attention masks, the budget taken from the whole
/// input's length. Separate from the decode protocol (`Perplexity`, `PolicyComparison`,
/// `FewShot`), where the engine reads only the rows a policy selects, position by position.
///
/// Grouped-query attention: each query head gets its own mask and, for InfiniGen, its own
/// skewing matrix applied to its group's keys (`ArtifactConventions.Skewing`); under masks
/// no skewed cache is stored, so nothing forces a group to share.
public final class ArtifactEvaluator: @unchecked Sendable {
    public let method: ArtifactMethod
    public let spare: Int
    public let conventions: ArtifactConventions
    /// The registry's canonical spec.
    public let canonical: String
    public let skewing: ArtifactSkewing?
    let model: LlamaModel
    let plan: MaskedForward.Plan

    public init(model: LlamaModel, spec: String, conventions: ArtifactConventions = .artifact,
                context: ArtifactContext) throws {
        let (method, spare) = try ArtifactMethod.parse(spec)
        guard spare <= model.config.layers else {
            throw PolicyError("artifact protocol: spare=\(spare) exceeds the model's \(model.config.layers) layers")
        }
        self.method = method
        self.spare = spare
        self.conventions = conventions
        self.model = model
        canonical = try Self.canonical(spec, conventions: conventions)
        var plan = MaskedForward.Plan(method: method, spare: spare, conventions: conventions)
        if case let .infinigen(s) = method {
            guard spare >= 1 else { throw PolicyError("artifact protocol: infinigen needs spare >= 1 (layer 0 has no earlier layer)") }
            let calibration = try context.calibrationTokens()
            if let bad = calibration.first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
                throw PolicyError("artifact protocol: calibration token id \(bad) is outside the vocabulary")
            }
            let sk = try ArtifactSkewing.shared(model: model, calibration: calibration,
                                                prompt: conventions.columnSource == .prompt ? try context.promptTokens() : [],
                                                skewing: conventions.skewing, source: conventions.columnSource)
            let c = model.config, d = c.headDim
            let variant = s.columns ?? conventions.columns
            plan.projections = (0..<(c.layers * c.heads)).map { i in
                let l = i / c.heads, h = i % c.heads
                let cols = sk.columns(layer: l, head: h, ratio: s.ratio, variant: variant, skew: s.skew)
                let a = sk.head(layer: l, head: h).columnsOfA
                // Rows of A (its columns) kept; without skewing, rows of the identity.
                return cols.flatMap { col -> [Float] in
                    s.skew ? Array(a[(col * d)..<((col + 1) * d)]) : (0..<d).map { $0 == col ? 1 : 0 }
                }
            }
            skewing = sk
        } else {
            skewing = nil
        }
        self.plan = plan
    }

    /// The spec as run, in the registry's canonical form: InfiniGen's columns default to the
    /// conventions' choice here, not the registry's, so `infinigen:budget=0.2` (union under
    /// the artifact's conventions) and `infinigen:budget=0.2,columns=sum` differ. Use it,
    /// not the registry's canonical form, to key anything computed under masks.
    public static func canonical(_ spec: String, conventions: ArtifactConventions = .artifact) throws -> String {
        let (method, _) = try ArtifactMethod.parse(spec)
        if case let .infinigen(s) = method, s.columns == nil {
            let sep = spec.contains(":") ? (spec.hasSuffix(":") ? "" : ",") : ":"
            return try PolicyRegistry.canonical(spec + sep + "columns=" + conventions.columns.rawValue)
        }
        return try PolicyRegistry.canonical(spec)
    }

    /// One input as one masked pass.
    public func forward(_ tokens: [Int]) throws -> ArtifactPass {
        let out = try MaskedForward(model: model).run(tokens: tokens, plan: plan)
        return ArtifactPass(model: model, tokens: tokens, hidden: out.hidden, statistics: out.statistics)
    }

    /// Perplexity as accuracy/perplexity/llama.py scores it: disjoint windows of `window`
    /// tokens (a trailing partial window is dropped), each one masked pass, every position
    /// of every window scored (a window's first token is never predicted).
    public func perplexity(tokens: [Int], window: Int) throws -> ArtifactPerplexity {
        guard window >= 2 else { throw ModelError("window must be at least 2 tokens (got \(window))") }
        let windows = tokens.count / window
        guard windows >= 1 else { throw ModelError("the text has \(tokens.count) tokens, fewer than one window of \(window)") }
        var result = ArtifactPerplexity(nll: [], windowPosition: [], statistics: [])
        for w in 0..<windows {
            let pass = try forward(Array(tokens[(w * window)..<((w + 1) * window)]))
            let nll = pass.nll()
            result.nll += nll
            result.windowPosition += Array(0..<nll.count)
            result.statistics.append(pass.statistics)
        }
        return result
    }

    /// Log-likelihood of `continuation` after `context`, scored the way the artifact's
    /// lm-eval path does: the whole prompt (context + continuation) is one input, so its
    /// length sets the budget, and the continuation's tokens are read off its log-softmax.
    public func logLikelihood(context: [Int], continuation: [Int]) throws -> ArtifactLogLikelihood {
        guard !context.isEmpty, !continuation.isEmpty else { throw ModelError("context and continuation must be non-empty") }
        let tokens = context + continuation
        let pass = try forward(tokens)
        let rows = (context.count - 1)..<(tokens.count - 1)
        let logits = pass.logits(rows: rows)
        let V = model.config.vocabSize
        var sum = 0.0, greedy = true
        for (n, r) in rows.enumerated() {
            let row = logits.pointer + n * V
            let next = tokens[r + 1]
            sum += Double(row[next]) - Kernels.logSumExp(row, V)
            if Kernels.argmax(row, V) != next { greedy = false }
        }
        return ArtifactLogLikelihood(logLikelihood: sum, isGreedy: greedy, statistics: pass.statistics)
    }
}

/// The outcome of one masked pass: final hidden states (logits on demand, a block at a time,
/// so a long input never holds L × vocabulary floats twice) and the mask statistics.
public final class ArtifactPass: @unchecked Sendable {
    public let tokens: [Int]
    public let statistics: MaskStatistics
    let hidden: FloatBuffer
    let model: LlamaModel

    init(model: LlamaModel, tokens: [Int], hidden: FloatBuffer, statistics: MaskStatistics) {
        self.model = model
        self.tokens = tokens
        self.hidden = hidden
        self.statistics = statistics
    }

    /// Logits of `rows` (rows × vocabulary).
    public func logits(rows: Range<Int>) -> FloatBuffer {
        let c = model.config
        let out = FloatBuffer(count: rows.count * c.vocabSize, zeroed: false)
        model.weights.output.matmul(hidden.pointer + rows.lowerBound * c.hiddenSize, m: rows.count, out.pointer)
        return out
    }

    /// Negative log-likelihood of tokens[i + 1] at every row i < L - 1.
    public func nll() -> [Double] {
        let V = model.config.vocabSize, n = tokens.count - 1
        var out = [Double](repeating: 0, count: max(n, 0))
        for start in stride(from: 0, to: n, by: Self.block) {
            let rows = start..<min(n, start + Self.block)
            let lg = logits(rows: rows)
            out.withUnsafeMutableBufferPointer { o in
                let slots = o.baseAddress!
                Parallel.forEach(rows.count) { i in
                    let row = lg.pointer + i * V
                    slots[start + i] = Kernels.logSumExp(row, V) - Double(row[self.tokens[start + i + 1]])
                }
            }
        }
        return out
    }

    /// Per row i < L - 1: KL(reference ‖ self) of the next-token distributions, and whether
    /// their argmax agree.
    public func compare(with reference: ArtifactPass) -> (kl: [Double], top1: [Bool]) {
        precondition(reference.tokens == tokens)
        let V = model.config.vocabSize, n = tokens.count - 1
        var kl = [Double](repeating: 0, count: max(n, 0)), top1 = [Bool](repeating: false, count: max(n, 0))
        for start in stride(from: 0, to: n, by: Self.block) {
            let rows = start..<min(n, start + Self.block)
            let p = logits(rows: rows), f = reference.logits(rows: rows)
            kl.withUnsafeMutableBufferPointer { k in
                top1.withUnsafeMutableBufferPointer { t in
                    let ks = k.baseAddress!, ts = t.baseAddress!
                    Parallel.forEach(rows.count) { i in
                        let pr = p.pointer + i * V, fr = f.pointer + i * V
                        let lp = Kernels.logSumExp(pr, V), lf = Kernels.logSumExp(fr, V)
                        var sum = 0.0
                        for j in 0..<V {
                            let a = Double(fr[j]) - lf
                            sum += exp(a) * (a - (Double(pr[j]) - lp))
                        }
                        ks[start + i] = max(sum, 0)
                        ts[start + i] = Kernels.argmax(pr, V) == Kernels.argmax(fr, V)
                    }
                }
            }
        }
        return (kl, top1)
    }

    /// Rows of logits computed at once.
    static let block = 256
}

/// Perplexity over the artifact's windows.
public struct ArtifactPerplexity: Codable, Sendable {
    public var nll: [Double]
    /// Row inside its window of each scored prediction (it predicts the token after it).
    public var windowPosition: [Int]
    /// One per window.
    public var statistics: [MaskStatistics]
    public var meanNLL: Double { nll.isEmpty ? .nan : nll.reduce(0, +) / Double(nll.count) }
    public var perplexity: Double { exp(meanNLL) }
    /// Mean of the windows' densities (the artifact averages every layer of every window).
    public var density: Double {
        statistics.isEmpty ? .nan : statistics.map(\.density).reduce(0, +) / Double(statistics.count)
    }
    public var retainRatio: Double { MaskStatistics.retainRatio(density: density) }
}

/// One continuation's score.
public struct ArtifactLogLikelihood: Sendable {
    public var logLikelihood: Double
    public var isGreedy: Bool
    public var statistics: MaskStatistics
}
