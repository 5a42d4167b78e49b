import Model

/// Deterministic choice of in-context examples for tasks that have only one split
/// (COPA and RTE: validation only). The rule, shared with scripts/reference/fewshot_ref.py:
/// SplitMix64 (Model's generator) seeded with the scored row's index; pool = every other row index in
/// ascending order; for k in 0..<shots, swap pool[k] with pool[k + next() % (pool.count - k)];
/// the examples are pool[0..<shots] in that order. The scored row is never among them.
public enum TasksSampler {
    public static func examples(for index: Int, rowCount: Int, shots: Int) throws -> [Int] {
        guard (0..<rowCount).contains(index) else {
            throw FewShotError("row \(index) is outside 0..<\(rowCount)")
        }
        guard shots >= 0, shots < rowCount else {
            throw FewShotError("cannot draw \(shots) examples from the other \(rowCount - 1) rows")
        }
        var rng = SplitMix64(seed: UInt64(index))
        var pool = (0..<rowCount).filter { $0 != index }
        for k in 0..<shots {
            let j = k + Int(rng.next() % UInt64(pool.count - k))
            pool.swapAt(k, j)
        }
        return Array(pool.prefix(shots))
    }
}
