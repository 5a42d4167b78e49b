import XCTest
@testable import Model
@testable import Policies

/// The policies inside the real engine, on a tiny random model.
final class EngineIntegrationTests: XCTestCase {
    private let model = Tiny.model()
    private let tokens = Tiny.tokens(48)

    /// The reference for policy-managed runs: `full` through the same engine path (one
    /// query row at a time, where a policy-less run uses one causal block: the two agree
    /// to float rounding only).
    private func full(policyStart: Int = 0) throws -> [Float] {
        let logits = try Run.teacherForced(model, Run.policy("full", model), tokens, policyStart: policyStart)
        let blocked = try Run.teacherForced(model, nil, tokens)
        XCTAssertLessThan(Run.maxDifference(logits[...], blocked[...]), 1e-4)
        return logits
    }

    /// With batch-invariant arithmetic the managed rows (one query row at a time) and the
    /// policy-less causal block compute the same thing: `full` equals no policy exactly.
    func testFullPolicyIsThePolicyLessRunWhenBatchInvariant() throws {
        try Run.batchInvariant(model) {
            for start in [0, 20] {
                let managed = try Run.teacherForced(model, Run.policy("full", model), tokens, policyStart: start)
                let blocked = try Run.teacherForced(model, nil, tokens)
                XCTAssertTrue(managed == blocked, "policyStart \(start): \(Run.maxDifference(managed[...], blocked[...]))")
            }
        }
    }

    func testFlexGenIsFull() throws {
        // Whole arrays compared with == keep failure messages short.
        XCTAssertTrue(try Run.teacherForced(model, Run.policy("flexgen", model), tokens) == full())
        XCTAssertTrue(try Run.teacherForced(model, Run.policy("flexgen", model), tokens, policyStart: 20) == full(policyStart: 20))
    }

    /// Quantization sparing every layer is exact (the spared layers keep f32 rows); with no
    /// managed layer the engine takes its policy-less path.
    func testQuantSparingEveryLayerIsFull() throws {
        XCTAssertTrue(try Run.teacherForced(model, Run.policy("quant:bits=1,spare=4", model), tokens)
                      == Run.teacherForced(model, nil, tokens))
    }

    /// Budgets that cover the whole cache reproduce full attention, also through the
    /// engine's gather path (explicit lists instead of "read everything").
    func testWholeBudgetsReproduceFull() throws {
        let full = try full()
        for spec in ["h2o:heavy=1,recent=1", "h2o:heavy-tokens=100,recent-tokens=0", "streaming:budget=1",
                     "streaming:sinks=0,budget-tokens=64", "quest:budget=1,page=5", "oracle:budget=1",
                     "oracle:k=100", "oracle:top-p=1"] {
            for explicit in [false, true] {
                let policy = CheckingPolicy(try Run.policy(spec, model), explicit: explicit)
                let logits = try Run.teacherForced(model, policy, tokens)
                XCTAssertLessThan(Run.maxDifference(logits[...], full[...]), 1e-5, spec)
                XCTAssertEqual(policy.problems, [], spec)
                XCTAssertEqual(policy.selections, 48 * 2, spec)    // 2 managed layers (spare 2)
            }
        }
    }

    /// Small budgets change the output (nothing silently reads everything) and every
    /// selection respects its budget.
    func testSparsePoliciesRespectTheirBudgets() throws {
        let full = try full()
        let ceil = { (f: Double, t: Int) in min(t, Int((f * Double(t + 1) - 1e-9).rounded(.up))) }
        let cases: [(String, (Int) -> Int)] = [
            ("h2o:heavy=0.1,recent=0.1", { ceil(0.2, $0) }),
            ("h2o:heavy-tokens=3,recent-tokens=2", { min($0, 5) }),
            ("streaming:sinks=2,budget=0.2", { ceil(0.2, $0) }),
            ("quest:page=4,budget=0.25", { max(ceil(0.25, $0), $0 % 4) }),
            ("oracle:budget=0.2", { ceil(0.2, $0) }),
            ("oracle:k=3", { min($0, 3) }),
            ("oracle:top-p=0.5", { $0 }),
        ]
        for (spec, limit) in cases {
            let policy = CheckingPolicy(try Run.policy(spec, model), limit: limit)
            let logits = try Run.teacherForced(model, policy, tokens)
            XCTAssertEqual(policy.problems, [], spec)
            XCTAssertGreaterThan(Run.maxDifference(logits[...], full[...]), 1e-3, "\(spec) should differ from full")
        }
    }

    /// Quest with one-token pages bounds each key exactly (max(q·k, q·k) = q·k), so it is
    /// the oracle with the same budget: an independent check of both.
    func testQuestWithSingleTokenPagesIsTheOracle() throws {
        for budget in [0.1, 0.3] {
            let quest = try Run.teacherForced(model, Run.policy("quest:page=1,budget=\(budget)", model), tokens)
            let oracle = try Run.teacherForced(model, Run.policy("oracle:budget=\(budget)", model), tokens)
            XCTAssertLessThan(Run.maxDifference(quest[...], oracle[...]), 1e-5, "budget \(budget)")
        }
    }

    /// A decode run (prompt, then one token per call) sees what the teacher-forced run
    /// with the same policyStart sees: with batch-invariant arithmetic both compute every
    /// K/V row as a one-token step does, so the logits are equal bit for bit, under any
    /// BLAS kernel (without it, sgemm's rounding differs by kernel and the 2-bit cache
    /// turns that into visible differences).
    func testDecodeMatchesTeacherForced() throws {
        let V = model.config.vocabSize, prompt = 12
        try Run.batchInvariant(model) {
            for spec in ["h2o:heavy=0.2,recent=0.1", "h2o:heavy-tokens=2,recent-tokens=2", "streaming:sinks=2,budget=0.2",
                         "quest:page=4,budget=0.3", "oracle:budget=0.2", "oracle:budget=0.2,gqa=per-head", "h2o:heavy=0.2,recent=0.1,gqa=per-head", "quest:page=4,budget=0.3,gqa=per-head", "oracle:top-p=0.7", "quant:bits=2", "quant:bits=1",
                         "flexgen", "full"] {
                let forced = try Run.teacherForced(model, Run.policy(spec, model), tokens, policyStart: prompt)
                let decoded = try Run.decode(model, Run.policy(spec, model), tokens, prompt: prompt)
                XCTAssertTrue(Array(forced[((prompt - 1) * V)...]) == decoded,
                              "\(spec): max difference \(Run.maxDifference(forced[((prompt - 1) * V)...], decoded[...]))")
            }
        }
    }

    func testQuantizationErrorShrinksWithBits() throws {
        let full = try full()
        let lpFull = Run.logprobs(full, tokens: tokens, vocab: model.config.vocabSize)
        var errors: [Double] = []
        for bits in [8, 4, 2, 1] {
            let logits = try Run.teacherForced(model, Run.policy("quant:bits=\(bits)", model), tokens)
            let lp = Run.logprobs(logits, tokens: tokens, vocab: model.config.vocabSize)
            errors.append(zip(lp, lpFull).map { abs($0 - $1) }.reduce(0, +) / Double(lp.count))
        }
        // The tiny model's peaked attention magnifies key errors; only the ordering is robust.
        XCTAssertGreaterThan(errors[0], 0, "8 bits still perturbs: \(errors)")
        XCTAssertEqual(errors, errors.sorted(), "error grows as bits shrink: \(errors)")
        XCTAssertGreaterThan(errors[2], errors[0] * 10, "\(errors)")
    }
}
