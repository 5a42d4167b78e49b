import Foundation

extension HardwareProfile {
    /// Whether the device rates were timed on the engine (`calibrated(to:shape:)`).
    public var engineCalibrated: Bool { deviceWeightStreamGBps != nil && h2dDemandGBps != nil }

    /// This (`this-machine`) profile with the device described by the engine's own decode
    /// (see `EngineProfiler`) instead of sgemm/sgemv, so that the schedules' decode work
    /// on `shape` (the engine's storage sizes, `ModelShape.withEngineStorage`) takes as
    /// long as the engine measured:
    /// - weight bytes of one step / context-independent compute = weight stream rate;
    /// - attention bytes per cached token (K, V and scores, every layer) / compute per
    ///   cached token = the device memory bandwidth;
    /// - the prefetch thread's copy rate of K/V rows = the host-to-device link.
    public func calibrated(to e: EngineMeasurements, shape: ModelShape) -> HardwareProfile {
        var p = self
        let gb = 1e9
        let fit = e.fit
        let weights = Double(shape.layers) * shape.layerWeightBytes + shape.embeddingWeightBytes
        // Attention bytes per extra key, exactly as `attentionWork` counts them.
        let perToken = Double(shape.layers)
            * (shape.attentionWork(batch: 1, queries: 1, keys: 2).bytes - shape.attentionWork(batch: 1, queries: 1, keys: 1).bytes)
        let contexts = e.points.map { String($0.context) }.joined(separator: ", ")
        let base = "measured by EngineProfiler: the engine's decode on one thread, KV in a two-tier store, contexts \(contexts)"
        p.deviceWeightStreamGBps = weights / fit.fixedSeconds / gb
        p.sources["device_weight_stream_gb_per_s"] = String(format: "%@: %.2f MB of weights (%@ layers, %@ head) over the context-independent %.2f ms of a step",
                                                             base, weights / 1e6, e.layerWeightFormat, e.outputWeightFormat, fit.fixedSeconds * 1e3)
        if fit.secondsPerToken > 0 {
            p.deviceMemoryBandwidthGBps = perToken / fit.secondsPerToken / gb
            p.sources["device_memory_bandwidth_gb_per_s"] = String(format: "%@: %.0f bytes of K, V (f32) and scores per cached token and step over %.0f ns per cached token",
                                                                   base, perToken, fit.secondsPerToken * 1e9)
        }
        if e.copyBytesPerSecond > 0 {
            p.h2dPinnedGBps = e.copyBytesPerSecond / gb
            p.h2dPageableGBps = p.h2dPinnedGBps
            p.sources["h2d_pinned_gb_per_s"] = "\(base): the prefetch thread copying \(4 * e.headDim)-byte K and V rows out of the host pool"
            p.sources["h2d_pageable_gb_per_s"] = "same as pinned: no pinning on a single CPU"
        }
        if let demand = e.demandBytesPerSecond {
            // No measurable extra cost: free, as far as a rate can say it.
            p.h2dDemandGBps = min(demand / gb, 10_000)
            let extra = e.demandExtraSeconds
                ?? e.demand.engineCPUSeconds - (e.points.first { $0.context == e.demand.context }?.engineCPUSeconds ?? .nan)
            p.sources["h2d_demand_gb_per_s"] = String(format: "%@: context %d fetched on demand by the engine adds %.2f ms of its CPU per step over prefetched (%@): the extra per K/V byte of the layers that differ",
                                                      base, e.demand.context, extra * 1e3,
                                                      e.demandExtraSeconds == nil ? "separate runs" : "median of interleaved pairs")
        } else {
            p.h2dDemandGBps = nil
            p.sources["h2d_demand_gb_per_s"] = nil
        }
        if !engineCalibrated { p.description += " Device rates timed on the engine's own decode step (EngineProfiler)." }
        return p
    }
}
