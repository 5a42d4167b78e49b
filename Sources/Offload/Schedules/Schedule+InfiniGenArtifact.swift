/// InfiniGen as the artifact's speedup path runs it (FlexGen serial loop,
/// attention and MLP as separate layers). For layer j that speculates for
/// j+1: speculation (its `.item()` blocks the host), attention, device sync,
/// new-token store, indices to the host, a CPU gather of the selected rows
/// into a pinned buffer, then an async copy that overlaps only the MLP of
/// layer j; the sync after the MLP waits for the copy.
public struct InfiniGenArtifactSchedule: Schedule {
    public let name = "infinigen-artifact"
    public let summary = "artifact order: sync, CPU gather, copy overlapping only the MLP of the same layer"

    public init() {}

    public func run(_ run: inout ScheduleRun) throws {
        InfiniGenWork.notes(&run)
        run.note("infinigen-artifact: serial FlexGen loop as the artifact's scripts; prefetch for layer j+1 overlaps only MLP j (issue #9 of the artifact)")
        var start = FlexGenLoop.step(&run, step: 0, start: run.join([]), plans: InfiniGenWork.prefillPlans(run),
                                     overlap: false)
        guard run.workload.decodeSteps > 0 else { return }
        for step in 1...run.workload.decodeSteps {
            start = decodeStep(&run, step: step, start: start)
        }
    }

    private func decodeStep(_ run: inout ScheduleRun, step: Int, start: TaskID) -> TaskID {
        let cached = run.workload.cachedTokens(atDecodeStep: step)
        var sync = start
        for layer in 0..<run.layers {
            let sparse = InfiniGenWork.isSparse(run, layer: layer)
            var deps = [sync]
            let attentionWeights = FlexGenPlans.weights(run, attention: true)
            if attentionWeights.bytes > 0 {
                deps.append(run.load("load-weights", bytes: attentionWeights.bytes, transfers: attentionWeights.transfers,
                                     after: [sync], step: step, layer: layer))
            }
            if !sparse {
                // Dense layers: FlexGen's load_cache, staged through a pinned relay.
                let bytes = run.kvBytes(tokens: cached)
                var loadDeps = [sync]
                if !run.options.hostKVPinned {
                    loadDeps.append(run.host("stage-kv", seconds: run.cost.hostCopy(bytes: bytes), after: [sync],
                                             step: step, layer: layer))
                }
                deps.append(run.load("load-kv", bytes: bytes, transfers: 2, after: loadDeps, step: step, layer: layer))
            }
            let speculates = InfiniGenWork.isSparse(run, layer: layer + 1)
            if speculates {
                let spec = run.compute("speculate", InfiniGenWork.speculation(run, cached: cached), after: deps,
                                       step: step, layer: layer)
                deps = [run.sync(after: [spec], step: step, layer: layer)]
            }
            let keys = InfiniGenWork.tokens(run, step: step, layer: layer, cached: cached) + 1
            let work = run.decodeAttentionWork(keys: keys)
                + (sparse ? InfiniGenWork.partialCacheCat(run, cached: cached) : .none)
            let attention = run.compute("attention", work, after: deps, step: step, layer: layer)
            var after = run.sync(after: [attention], step: step, layer: layer)
            let stored = run.store("store-kv", bytes: run.kvBytes(tokens: 1), pinned: run.options.hostKVPinned,
                                   transfers: 2, after: [after], step: step, layer: layer)
            after = run.join([after, stored])

            var mlpDeps = [after]
            let mlpWeights = FlexGenPlans.weights(run, attention: false)
            if mlpWeights.bytes > 0 {
                mlpDeps.append(run.load("load-weights", bytes: mlpWeights.bytes, transfers: mlpWeights.transfers,
                                        after: [after], step: step, layer: layer))
            }
            var waits: [TaskID] = []
            if speculates {
                let k = InfiniGenWork.tokens(run, step: step, layer: layer + 1, cached: cached)
                let bytes = run.kvBytes(tokens: k)
                let indices = run.store("indices", bytes: Double(k * run.batch * run.model.heads * 8), pinned: false,
                                        transfers: 1, after: [after], step: step, layer: layer)
                let gathered = run.host("gather", seconds: run.cost.hostGather(bytes: bytes), after: [indices],
                                        step: step, layer: layer)
                waits.append(run.load("prefetch-kv", bytes: bytes, transfers: 2, after: [gathered],
                                      step: step, layer: layer + 1))
                mlpDeps.append(gathered)
            }
            let mlp = run.compute("mlp", run.decodeMLPWork(), after: mlpDeps, step: step, layer: layer)
            sync = run.sync(after: [mlp] + waits, step: step, layer: layer)
        }
        return run.finishStep(step, after: [sync])
    }
}
