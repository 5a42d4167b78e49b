import Foundation

/// One decode step of a real two-tier run, summed over the batch's sequences (each has
/// its own two-tier store and prefetch thread). Times are wall-clock seconds.
public struct OffloadRunStep: Codable, Sendable, Equatable {
    /// The whole `forward` call of the step.
    public var seconds: Double
    /// Time the engine waited for rows (an unfinished prefetch, or a demand fetch).
    public var stallSeconds: Double
    /// Time spent copying rows (prefetch thread plus demand fetches).
    public var copySeconds: Double
    /// f32 K and V bytes copied out of the host pools.
    public var bytes: Double
    public var prefetchedRows: Int
    public var demandRows: Int
    /// Time inside the policy's hooks (speculation, selection, bookkeeping).
    public var policySeconds: Double
    /// CPU time of the engine thread during the step (demand fetches included): below
    /// `seconds - stallSeconds + demandSeconds` when other processes took the core.
    public var engineCPUSeconds: Double
    /// The part of the stall spent fetching rows on demand (on the engine thread); the
    /// rest is waiting for the prefetch thread.
    public var demandSeconds: Double

    /// The step on the engine thread's CPU clock: its CPU time plus its waits for the
    /// prefetch thread. Equal to `seconds` on an idle machine; much less sensitive to
    /// other processes sharing the cores.
    public var cpuClockSeconds: Double { engineCPUSeconds + max(0, stallSeconds - demandSeconds) }

    /// What the engine's compute thread did: the step minus its waits.
    public var computeSeconds: Double { max(0, seconds - stallSeconds) }
}

/// A real decode run with the KV cache in `TwoTierKVStorage`: per-step timings and byte
/// counts, and the rows each layer read at each step (the trace the simulator is fed).
public struct OffloadRunResult: Codable, Sendable, Equatable {
    /// Canonical policy spec.
    public var policy: String
    public var prompt: Int
    public var generate: Int
    public var batch: Int
    public var text: String
    /// "teacher-forced" (the text's next tokens) or "greedy".
    public var inputs: String
    /// Whether the policy picks layer l+1's rows while layer l runs (then its copies
    /// overlap compute); otherwise managed layers fetch on demand.
    public var selectsAhead: Bool
    public var firstManagedLayer: Int
    /// Where the timings were taken: CPU model, cores, threads.
    public var machine: String
    /// 1-minute load average before and after the run (other processes inflate timings).
    public var loadBefore: Double
    public var loadAfter: Double
    public var prefillSeconds: Double
    public var steps: [OffloadRunStep]
    /// `rows[step][layer]`: cached rows read per (sequence, KV head), index
    /// `sequence * kvHeads + kvHead`, the query's own row excluded.
    public var rows: [[[Int]]]
    /// Per layer, the share of its reads that had been prefetched (0 = all on demand).
    public var prefetchedShare: [Double]

    public var label: String { "measured on \(machine)" }

    public var medianStepSeconds: Double { Self.median(steps.map(\.seconds)) }
    public var meanStepSeconds: Double { Self.mean(steps.map(\.seconds)) }
    public var medianComputeSeconds: Double { Self.median(steps.map(\.computeSeconds)) }
    public var meanStallSeconds: Double { Self.mean(steps.map(\.stallSeconds)) }
    public var medianStallSeconds: Double { Self.median(steps.map(\.stallSeconds)) }
    public var meanCopySeconds: Double { Self.mean(steps.map(\.copySeconds)) }
    public var meanPolicySeconds: Double { Self.mean(steps.map(\.policySeconds)) }
    public var medianEngineCPUSeconds: Double { Self.median(steps.map(\.engineCPUSeconds)) }
    public var medianCPUClockSeconds: Double { Self.median(steps.map(\.cpuClockSeconds)) }
    public var meanBytes: Double { Self.mean(steps.map(\.bytes)) }
    public var totalBytes: Double { steps.reduce(0) { $0 + $1.bytes } }
    /// Rows read over the whole run (every step, layer, sequence and KV head).
    public var totalRows: Int { rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.reduce(0, +) } } }
    /// Mean rows read per step in each layer (summed over sequences and KV heads).
    public var meanRowsPerLayer: [Double] {
        guard let first = rows.first else { return [] }
        return first.indices.map { l in Self.mean(rows.map { Double($0[l].reduce(0, +)) }) }
    }

    static func median(_ xs: [Double]) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    static func mean(_ xs: [Double]) -> Double { xs.isEmpty ? .nan : xs.reduce(0, +) / Double(xs.count) }
}
