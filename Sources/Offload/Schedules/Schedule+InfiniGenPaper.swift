/// InfiniGen as the paper's figure 8 draws it: at the start of layer i-1 the
/// device speculates layer i's important tokens (partial query x partial key
/// cache); the indices go to the host, the selected rows are gathered into a
/// pinned buffer and copied while layer i-1's attention and MLP compute.
/// Layer i's attention waits only for its own prefetch.
public struct InfiniGenPaperSchedule: Schedule {
    public let name = "infinigen-paper"
    public let summary = "figure 8: prefetch of layer i overlaps layer i-1's attention and MLP"

    public init() {}

    public func run(_ run: inout ScheduleRun) throws {
        InfiniGenWork.notes(&run)
        run.note(run.options.paperHostGather
                 ? "infinigen-paper: selected rows gathered by the host into a pinned buffer, overlapped with the previous layer"
                 : "infinigen-paper: the link reads the selected rows directly (no host gather)")
        var start = FlexGenLoop.step(&run, step: 0, start: run.join([]), plans: InfiniGenWork.prefillPlans(run),
                                     overlap: run.options.overlapIO)
        guard run.workload.decodeSteps > 0 else { return }
        for step in 1...run.workload.decodeSteps {
            start = decodeStep(&run, step: step, start: start)
        }
    }

    /// Whole-cache load of a dense layer, staged if the home is pageable.
    private func denseLoad(_ run: inout ScheduleRun, step: Int, layer: Int, cached: Int, after deps: [TaskID],
                           demand: Bool = false) -> TaskID {
        let bytes = run.kvBytes(tokens: cached)
        var loadDeps = deps
        if !run.options.hostKVPinned {
            loadDeps.append(run.host("stage-kv", seconds: run.cost.hostCopy(bytes: bytes), after: deps,
                                     step: step, layer: layer))
        }
        return run.load("load-kv", bytes: bytes, transfers: 2, demand: demand, after: loadDeps, step: step, layer: layer)
    }

    private func weightLoad(_ run: inout ScheduleRun, step: Int, layer: Int, after deps: [TaskID]) -> TaskID? {
        let bytes = run.offDeviceWeightBytes(attention: true) + run.offDeviceWeightBytes(attention: false)
        guard bytes > 0 else { return nil }
        return run.load("load-weights", bytes: bytes, transfers: 4, after: deps, step: step, layer: layer)
    }

    private func decodeStep(_ run: inout ScheduleRun, step: Int, start: TaskID) -> TaskID {
        let cached = run.workload.cachedTokens(atDecodeStep: step)
        let overlap = run.options.overlapIO
        var kvReady: [Int: TaskID] = [:]
        var weightsReady: [Int: TaskID] = [:]
        var stores: [TaskID] = []
        var last = start
        for layer in 0..<run.layers {
            let sparse = InfiniGenWork.isSparse(run, layer: layer)
            // Loads that do not depend on speculation: this layer's if not yet
            // issued, and (overlapped) the next layer's one layer ahead.
            if weightsReady[layer] == nil {
                weightsReady[layer] = weightLoad(&run, step: step, layer: layer, after: [last])
            }
            if !sparse && kvReady[layer] == nil {
                // Not issued a layer ahead: the attention below waits for it at once.
                kvReady[layer] = denseLoad(&run, step: step, layer: layer, cached: cached, after: [last], demand: true)
            }
            if overlap && layer + 1 < run.layers {
                weightsReady[layer + 1] = weightLoad(&run, step: step, layer: layer + 1, after: [last])
                if !InfiniGenWork.isSparse(run, layer: layer + 1) {
                    kvReady[layer + 1] = denseLoad(&run, step: step, layer: layer + 1, cached: cached, after: [last])
                }
            }
            if InfiniGenWork.isSparse(run, layer: layer + 1) {
                let spec = run.compute("speculate", InfiniGenWork.speculation(run, cached: cached), after: [last],
                                       step: step, layer: layer)
                let k = InfiniGenWork.tokens(run, step: step, layer: layer + 1, cached: cached)
                let bytes = run.kvBytes(tokens: k)
                var ready = run.store("indices", bytes: Double(k * run.batch * run.model.heads * 8), pinned: false,
                                      transfers: 1, after: [spec], step: step, layer: layer)
                if run.options.paperHostGather {
                    ready = run.host("gather", seconds: run.cost.hostGather(bytes: bytes), after: [ready],
                                     step: step, layer: layer)
                }
                kvReady[layer + 1] = run.load("prefetch-kv", bytes: bytes, transfers: 2, after: [ready],
                                              step: step, layer: layer + 1)
                last = spec
            }
            let keys = InfiniGenWork.tokens(run, step: step, layer: layer, cached: cached) + 1
            // The new partial key is appended in place.
            let append = DeviceWork(flops: 0, bytes: Double(run.batch * run.model.kvHeads * InfiniGenWork.partialDim(run)) * run.model.kvBytes,
                                    kernels: 1)
            var deps = [last]
            if let kv = kvReady[layer] { deps.append(kv) }
            if let w = weightsReady[layer] { deps.append(w) }
            let attention = run.compute("attention", run.decodeAttentionWork(keys: keys) + (sparse ? append : .none),
                                        after: deps, step: step, layer: layer)
            stores.append(run.store("store-kv", bytes: run.kvBytes(tokens: 1), pinned: run.options.hostKVPinned,
                                    transfers: 2, after: [attention], step: step, layer: layer))
            last = run.compute("mlp", run.decodeMLPWork(), after: [attention], step: step, layer: layer)
        }
        return run.finishStep(step, after: [last] + stores)
    }
}
