/// One FlexGen "layer". FlexGen runs attention and MLP as separate layers
/// (`sep_layer=True`, its default), so loads are issued one sublayer ahead:
/// the KV of attention l is fetched while MLP l-1 (or, for l = 0, the input
/// embedding) computes.
struct SublayerPlan {
    var name: String
    var layer: Int
    var compute: DeviceWork
    /// Off-device weights, pinned on the host, loaded before the compute.
    var weightBytes: Double = 0
    var weightTransfers: Int = 0
    /// Host copy of the KV into a pinned relay before its DMA (`pin_memory()`
    /// on a pageable home); 0 when the home is pinned.
    var stagingBytes: Double = 0
    var kvBytes: Double = 0
    var kvTransfers: Int = 0
    /// New KV written back after the compute.
    var storeBytes: Double = 0
    var storeTransfers: Int = 0
    /// Prefill writes use FlexGen's copy threads: DMA into a pinned relay,
    /// then a host copy into the pageable home, joined at the next sync.
    /// Decode writes are a direct (blocking) copy into pageable memory.
    var storeRelay = false
}

/// FlexGen's two generation loops, laid out on the timeline.
enum FlexGenLoop {
    /// Runs one step over `plans` (attention and MLP sublayers in order) and
    /// closes it with the output head. Returns the next step's start barrier.
    static func step(_ run: inout ScheduleRun, step: Int, start: TaskID, plans: [SublayerPlan],
                     overlap: Bool) -> TaskID {
        overlap ? overlapped(&run, step: step, start: start, plans: plans)
                : serial(&run, step: step, start: start, plans: plans)
    }

    private struct IssuedLoad {
        var hostWork: TaskID?
        var transfers: [TaskID]
    }

    /// `demand`: the compute waits for this load right away (nothing overlaps it).
    private static func issueLoad(_ run: inout ScheduleRun, _ plan: SublayerPlan, step: Int,
                                  after deps: [TaskID], demand: Bool = false) -> IssuedLoad {
        var issued = IssuedLoad(hostWork: nil, transfers: [])
        if plan.weightBytes > 0 {
            issued.transfers.append(run.load("load-weights", bytes: plan.weightBytes, transfers: plan.weightTransfers,
                                             after: deps, step: step, layer: plan.layer))
        }
        var kvDeps = deps
        if plan.stagingBytes > 0 {
            let staged = run.host("stage-kv", seconds: run.cost.hostCopy(bytes: plan.stagingBytes), after: deps,
                                  step: step, layer: plan.layer)
            issued.hostWork = staged
            kvDeps.append(staged)
        }
        if plan.kvBytes > 0 {
            issued.transfers.append(run.load("load-kv", bytes: plan.kvBytes, transfers: plan.kvTransfers, demand: demand,
                                             after: kvDeps, step: step, layer: plan.layer))
        }
        return issued
    }

    /// Returns the task(s) the next synchronisation must wait for.
    private static func issueStore(_ run: inout ScheduleRun, _ plan: SublayerPlan, step: Int,
                                   after computeTask: TaskID) -> TaskID? {
        guard plan.storeBytes > 0 else { return nil }
        if plan.storeRelay && !run.options.hostKVPinned {
            let dma = run.store("store-kv", bytes: plan.storeBytes, transfers: plan.storeTransfers,
                                after: [computeTask], step: step, layer: plan.layer)
            return run.host("unstage-kv", seconds: run.cost.hostCopy(bytes: plan.storeBytes),
                            after: [dma], step: step, layer: plan.layer)
        }
        return run.store("store-kv", bytes: plan.storeBytes, pinned: run.options.hostKVPinned,
                         transfers: plan.storeTransfers, after: [computeTask], step: step, layer: plan.layer)
    }

    /// `generation_loop_overlap_single_batch`: in iteration x the loop issues
    /// the load of sublayer x+1, computes x, stores x-1, then synchronises.
    /// The host-side staging copy of x+1 runs on the issuing thread, so the
    /// compute of x is launched only after it.
    private static func overlapped(_ run: inout ScheduleRun, step: Int, start: TaskID,
                                   plans: [SublayerPlan]) -> TaskID {
        // Input-embedding iteration: only the first sublayer's load happens.
        let first = issueLoad(&run, plans[0], step: step, after: [start], demand: true)
        var sync = run.join([start] + first.transfers + (first.hostWork.map { [$0] } ?? []))
        var previous: (plan: SublayerPlan, compute: TaskID)?
        for x in plans.indices {
            // The load of x was issued one iteration earlier and joined there.
            let next = x + 1 < plans.count ? issueLoad(&run, plans[x + 1], step: step, after: [sync]) : nil
            var deps = [sync]
            if let staged = next?.hostWork { deps.append(staged) }
            let computed = run.compute(plans[x].name, plans[x].compute, after: deps, step: step, layer: plans[x].layer)
            var waits = [computed] + (next?.transfers ?? [])
            if let prior = previous, let stored = issueStore(&run, prior.plan, step: step, after: prior.compute) {
                waits.append(stored)
            }
            sync = run.join(waits)
            previous = (plans[x], computed)
        }
        // Output-embedding iteration stores the last sublayer's KV.
        var waits = [sync]
        if let prior = previous, let stored = issueStore(&run, prior.plan, step: step, after: prior.compute) {
            waits.append(stored)
        }
        return run.finishStep(step, after: waits)
    }

    /// `generation_loop_normal`: load, compute, synchronise, store, one
    /// sublayer after the other. The synchronisation also waits for the copy
    /// threads, i.e. for the previous sublayer's relayed store.
    private static func serial(_ run: inout ScheduleRun, step: Int, start: TaskID,
                               plans: [SublayerPlan]) -> TaskID {
        var sync = start
        var relayed: TaskID?
        for plan in plans {
            let loaded = issueLoad(&run, plan, step: step, after: [sync], demand: true)
            let computed = run.compute(plan.name, plan.compute,
                                       after: [sync] + loaded.transfers + (loaded.hostWork.map { [$0] } ?? []),
                                       step: step, layer: plan.layer)
            var waits = [computed]
            if let r = relayed { waits.append(r) }
            relayed = nil
            sync = run.sync(after: waits, step: step, layer: plan.layer)
            if let stored = issueStore(&run, plan, step: step, after: sync) {
                if plan.storeRelay && !run.options.hostKVPinned {
                    relayed = stored
                } else {
                    sync = run.join([sync, stored])
                }
            }
        }
        return run.finishStep(step, after: [sync] + (relayed.map { [$0] } ?? []))
    }
}
