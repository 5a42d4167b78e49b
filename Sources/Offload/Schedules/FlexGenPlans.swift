/// Builders for the sublayer plans of the FlexGen family (weights on the
/// device up to `weightOnDevice`, KV home on the host, attention on the
/// device).
enum FlexGenPlans {
    static func weights(_ run: ScheduleRun, attention: Bool) -> (bytes: Double, transfers: Int) {
        let bytes = run.offDeviceWeightBytes(attention: attention)
        return (bytes, bytes > 0 ? 2 : 0)
    }

    static func attention(_ run: ScheduleRun, layer: Int, compute: DeviceWork,
                          kvBytes: Double = 0, kvTransfers: Int = 0,
                          storeBytes: Double, storeTransfers: Int, relay: Bool) -> SublayerPlan {
        let w = weights(run, attention: true)
        let staging = run.options.hostKVPinned || kvBytes == 0 ? 0 : kvBytes
        return SublayerPlan(name: "attention", layer: layer, compute: compute,
                            weightBytes: w.bytes, weightTransfers: w.transfers,
                            stagingBytes: staging, kvBytes: kvBytes, kvTransfers: kvTransfers,
                            storeBytes: storeBytes, storeTransfers: storeTransfers, storeRelay: relay)
    }

    static func mlp(_ run: ScheduleRun, layer: Int, compute: DeviceWork) -> SublayerPlan {
        let w = weights(run, attention: false)
        return SublayerPlan(name: "mlp", layer: layer, compute: compute,
                            weightBytes: w.bytes, weightTransfers: w.transfers)
    }

    /// Attention then MLP for every layer.
    static func layers(_ run: ScheduleRun, attention: (Int) -> SublayerPlan,
                       mlp: (Int) -> SublayerPlan) -> [SublayerPlan] {
        (0..<run.layers).flatMap { [attention($0), mlp($0)] }
    }

    /// The notes every FlexGen-family run carries.
    static func note(_ run: inout ScheduleRun) {
        run.note(run.options.overlapIO
                 ? "FlexGen overlap loop: the KV of attention l loads while MLP l-1 computes (sep_layer); each sublayer ends with a sync"
                 : "FlexGen serial loop (--overlap false, as the artifact's scripts): load, compute, store one sublayer at a time")
        run.note(run.options.hostKVPinned
                 ? "host KV home pinned: DMA straight from it"
                 : "host KV home pageable (artifact: pin_memory=False): each load is a host copy into a pinned relay, then the DMA")
        if run.weightOnDevice < 1 {
            run.note("weights \(Int((run.weightOnDevice * 100).rounded()))% on device; the rest crosses the link every step (pinned)")
        }
    }
}
