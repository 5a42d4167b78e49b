/// Device memory under CUDA unified memory (`cudaMallocManaged` for every
/// tensor, as the artifact's UVM baseline does) reduced to byte counts.
///
/// Assumptions (stated in every UVM result):
/// - weights, KV and workspace are all managed; nothing is pinned on device;
/// - a page first touched on the device is populated in place (no transfer);
/// - when memory is full each page brought in evicts one page to the host
///   (unified memory keeps one copy, so eviction is a migration);
/// - `belady`: the pages that fit stay and only the overflow cycles through
///   each step; `lru`: once the touched set exceeds memory every touched page
///   faults every step (cyclic access defeats LRU).
struct UVMMemory {
    let capacity: Double
    let eviction: UVMEviction
    /// Cold bytes evicted during prefill that the first decode step touches
    /// again and faults back.
    private(set) var evictedDuringPrefill: Double = 0
    private var evicted: Double = 0
    private var coldEvicted: Double = 0

    init(capacity: Double, eviction: UVMEviction) {
        self.capacity = capacity
        self.eviction = eviction
    }

    /// Prefill of one layer. `live` is every managed byte allocated while
    /// this layer runs (all weights, KV allocated so far, this layer's
    /// transient workspace); `cold` is what earlier layers used and will not
    /// touch again before decode. Overflow evicts cold data first; if that is
    /// not enough, weights of later layers go out and must fault back (each
    /// such byte: out, in, and one more cold byte out to make room).
    mutating func prefillLayer(live: Double, cold: Double) -> (evict: Double, faultIn: Double) {
        let overflow = max(0, live - capacity)
        let fresh = max(0, overflow - evicted)
        evicted += fresh
        let fromCold = min(fresh, max(0, cold - coldEvicted))
        coldEvicted += fromCold
        let hot = fresh - fromCold
        coldEvicted += hot
        evictedDuringPrefill = coldEvicted
        return (fresh + hot, hot)
    }

    /// Bytes that fault in during one decode step touching `touched` bytes
    /// with a transient `workspace`, and how many of them need an eviction.
    /// The first step also brings back what prefill pushed out (`touchedShare`
    /// of it is touched again).
    mutating func decodeStep(touched: Double, workspace: Double, first: Bool,
                             touchedShare: Double) -> (faultIn: Double, evict: Double) {
        let overflow = max(0, touched + workspace - capacity)
        var faultIn: Double
        switch eviction {
        case .belady: faultIn = overflow
        case .lru: faultIn = overflow > 0 ? touched : 0
        }
        let evict = overflow > 0 ? faultIn : 0
        if first {
            faultIn = max(faultIn, evictedDuringPrefill * touchedShare)
        }
        return (faultIn, evict)
    }
}

/// Shared layout of the two UVM baselines: per layer, evictions and faults
/// are serviced while the layer's kernels stall, so they serialise with its
/// compute.
enum UVMLayout {
    struct DecodeLayer {
        var attention: DeviceWork
        var mlp: DeviceWork
        var touched: Double
    }

    static func notes(_ run: inout ScheduleRun, memory: UVMMemory) {
        run.note(String(format: "UVM: all tensors managed; device capacity %.1f GB (memory minus reserve); eviction policy %@",
                        memory.capacity / 1e9, memory.eviction.rawValue))
        run.note("UVM: pages first touched on the device are populated in place at no transfer cost; each fault-in when full evicts as many bytes to the host")
        if run.options.uvmArtifactPrefill {
            run.note("UVM prefill as the artifact: fp32 causal mask built on the host and copied (pageable) every layer; eager attention keeps ~12 bytes per score alive")
        }
    }

    /// Issues one layer's fault service and compute; returns the last task.
    static func layer(_ run: inout ScheduleRun, step: Int, layer: Int, after start: TaskID,
                      evict: Double, faultIn: Double, hostBefore: [(name: String, seconds: Double, pageableCopy: Double)] = [],
                      attention: DeviceWork, mlp: DeviceWork) -> TaskID {
        var last = start
        for work in hostBefore {
            let built = run.host(work.name, seconds: work.seconds, after: [last], step: step, layer: layer)
            last = run.load("copy-" + work.name, bytes: work.pageableCopy, pinned: false, transfers: 1,
                            after: [built], step: step, layer: layer)
        }
        if evict > 0 {
            run.bytesDeviceToHost += evict
            last = run.timeline.add("uvm-evict", on: .d2h, duration: run.cost.uvmEvict(bytes: evict),
                                    after: [last], step: step, layer: layer)
        }
        if faultIn > 0 {
            run.bytesHostToDevice += faultIn
            last = run.timeline.add("uvm-fault-in", on: .h2d, duration: run.cost.uvmFaultIn(bytes: faultIn),
                                    after: [last], step: step, layer: layer)
        }
        let a = run.compute("attention", attention, after: [last, start], step: step, layer: layer)
        return run.compute("mlp", mlp, after: [a], step: step, layer: layer)
    }

    /// Extra device traffic of the artifact's eager prefill per score element:
    /// triu, x(-1e4), fp32 add, fp32 softmax, cast back (~28 bytes beyond the
    /// 12 counted by `attentionWork`).
    static func eagerMaskWork(_ run: ScheduleRun) -> DeviceWork {
        let p = Double(run.workload.promptLength)
        return DeviceWork(flops: 0, bytes: 28 * Double(run.batch * run.model.heads) * p * p, kernels: 5)
    }

    /// Peak transient bytes of one prefill layer's attention.
    static func prefillWorkspace(_ run: ScheduleRun) -> Double {
        let p = Double(run.workload.promptLength)
        let perScore: Double = run.options.uvmArtifactPrefill ? 12 : 6
        return perScore * Double(run.batch * run.model.heads) * p * p
    }

    static func maskBuild(_ run: ScheduleRun) -> [(name: String, seconds: Double, pageableCopy: Double)] {
        guard run.options.uvmArtifactPrefill else { return [] }
        let p = Double(run.workload.promptLength)
        let bytes = 4 * Double(run.batch * run.model.heads) * p * p
        return [("mask", run.cost.hostFill(bytes: bytes), bytes)]
    }
}
