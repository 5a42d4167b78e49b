/// Everything a schedule needs while it lays out a run, and the ledger it
/// fills: the timeline, bytes per link direction, step boundaries, notes.
public struct ScheduleRun: Sendable {
    public let model: ModelShape
    public let hardware: HardwareProfile
    public let workload: Workload
    public let reads: TokenReadSource
    public let options: ScheduleOptions
    public let cost: CostModel

    public internal(set) var timeline: Timeline
    public internal(set) var bytesHostToDevice: Double = 0
    public internal(set) var bytesDeviceToHost: Double = 0
    /// End time of each step (index 0 is prefill).
    public internal(set) var stepEnds: [Double] = []
    /// Assumptions and warnings specific to this run.
    public internal(set) var notes: [String] = []
    /// How the schedule decided how many tokens it reads.
    public internal(set) var readsLabel = ""

    init(model: ModelShape, hardware: HardwareProfile, workload: Workload, reads: TokenReadSource,
         options: ScheduleOptions) {
        self.model = model
        self.hardware = hardware
        self.workload = workload
        self.reads = reads
        self.options = options
        cost = CostModel(hardware: hardware)
        let last = workload.decodeSteps
        timeline = Timeline(recordedSteps: Set(options.timelineSteps ?? [0, min(1, last), last]))
    }

    var batch: Int { workload.batch }
    var layers: Int { model.layers }
    /// Fraction of each layer's weights that lives on the device.
    var weightOnDevice: Double { options.weightOnDeviceFraction ?? model.weightOnDeviceFraction }

    mutating func note(_ text: String) {
        if !notes.contains(text) { notes.append(text) }
    }

    // MARK: issuing tasks

    @discardableResult
    mutating func compute(_ name: String, _ work: DeviceWork, after deps: [TaskID] = [],
                          step: Int, layer: Int) -> TaskID {
        timeline.add(name, on: .device, duration: cost.seconds(work), after: deps, step: step, layer: layer)
    }

    @discardableResult
    mutating func load(_ name: String, bytes: Double, pinned: Bool = true, transfers: Int, demand: Bool = false,
                       after deps: [TaskID] = [], step: Int, layer: Int) -> TaskID {
        bytesHostToDevice += bytes
        return timeline.add(name, on: .h2d,
                            duration: cost.hostToDevice(bytes: bytes, pinned: pinned, transfers: transfers, demand: demand),
                            after: deps, step: step, layer: layer)
    }

    @discardableResult
    mutating func store(_ name: String, bytes: Double, pinned: Bool = true, transfers: Int,
                        after deps: [TaskID] = [], step: Int, layer: Int) -> TaskID {
        bytesDeviceToHost += bytes
        return timeline.add(name, on: .d2h, duration: cost.deviceToHost(bytes: bytes, pinned: pinned, transfers: transfers),
                            after: deps, step: step, layer: layer)
    }

    @discardableResult
    mutating func host(_ name: String, seconds: Double, after deps: [TaskID] = [],
                       step: Int, layer: Int) -> TaskID {
        timeline.add(name, on: .host, duration: seconds, after: deps, step: step, layer: layer)
    }

    /// The host waits for the device (cudaDeviceSynchronize or `.item()`).
    mutating func sync(after deps: [TaskID], step: Int, layer: Int) -> TaskID {
        host("sync", seconds: cost.sync, after: deps, step: step, layer: layer)
    }

    mutating func join(_ deps: [TaskID]) -> TaskID { timeline.join(deps) }

    /// Output head, then the sampled ids go to the host, which starts the
    /// next step. Returns the barrier the next step waits for.
    mutating func finishStep(_ step: Int, after deps: [TaskID]) -> TaskID {
        let head = compute("lm-head", model.lmHeadWork(rows: batch), after: deps, step: step, layer: -1)
        let ids = store("token-ids", bytes: Double(batch * 8), pinned: false, transfers: 1,
                        after: [head], step: step, layer: -1)
        let done = sync(after: [ids], step: step, layer: -1)
        stepEnds.append(timeline.end(of: done))
        return done
    }

    // MARK: shared quantities

    /// Bytes of K and V for `tokens` tokens of every sequence in one layer.
    func kvBytes(tokens: Int) -> Double { Double(batch * tokens) * model.kvBytesPerTokenPerLayer }

    /// Off-device weight bytes of one attention or MLP sublayer.
    func offDeviceWeightBytes(attention: Bool) -> Double {
        let elements = attention ? model.attentionWeightElements : model.mlpWeightElements
        return Double(elements) * model.weightBytes * (1 - weightOnDevice)
    }

    /// Device work of the prefill sublayers, shared by every schedule.
    func prefillAttentionWork() -> DeviceWork {
        let rows = batch * workload.promptLength
        return model.projectionWork(rows: rows)
            + model.attentionWork(batch: batch, queries: workload.promptLength, keys: workload.promptLength)
    }

    func prefillMLPWork() -> DeviceWork { model.mlpWork(rows: batch * workload.promptLength) }

    func decodeAttentionWork(keys: Int) -> DeviceWork {
        model.projectionWork(rows: batch) + model.attentionWork(batch: batch, queries: 1, keys: keys)
    }

    func decodeMLPWork() -> DeviceWork { model.mlpWork(rows: batch) }
}
