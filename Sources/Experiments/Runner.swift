import Foundation
import Report

/// Runs experiments: each configuration comes from the cache or is computed (and cached
/// at once, so an interrupted run resumes where it stopped); then each experiment's
/// CSV, JSON, figures and the report are written.
public final class Runner: Sendable {
    public let registry: ExperimentRegistry
    public let options: RunnerOptions
    let progress: ProgressLine
    let resources = ResourcePool()

    public init(registry: ExperimentRegistry = .shared, options: RunnerOptions) {
        self.registry = registry
        self.options = options
        self.progress = ProgressLine(quiet: options.quiet)
    }

    /// For tests: progress and notes go to `sink` instead of stderr.
    init(registry: ExperimentRegistry, options: RunnerOptions, progress: ProgressLine) {
        self.registry = registry
        self.options = options
        self.progress = progress
    }

    var layout: OutputLayout { options.layout }
    var cache: ResultCache { ResultCache(directory: layout.cache) }
    var digests: FileDigests { FileDigests(memoFile: layout.cache.appendingPathComponent("input-digests.json")) }

    func plans(_ specs: [any ExperimentSpec], profile: RunProfile) throws -> [ExperimentPlan] {
        try specs.map { try ExperimentPlan(spec: $0, profile: profile, digests: digests, artifacts: layout.artifacts) }
    }

    /// Lets each spec create the inputs its keys depend on (a measured profile) before
    /// they are computed; `list` does not call this, so it never measures anything.
    func prepareInputs(_ specs: [any ExperimentSpec], profile: RunProfile) async throws {
        let log: @Sendable (String) -> Void = { [progress] in progress.note($0) }
        for spec in specs {
            let context = RunContext(experimentID: spec.id, profile: profile, resources: resources, log: log,
                                     artifacts: layout.artifacts)
            do { try await spec.prepareInputs(context) } catch { throw ExperimentError("\(spec.id) inputs: \(error)") }
        }
    }

    /// `reproduce`: compute what is missing, then write outputs (or, with a shard, write
    /// this shard's results and manifest under artifacts/shards/<i>-of-<n>/).
    @discardableResult
    public func reproduce() async throws -> RunSummary {
        let specs = try registry.select(options.only)
        try await prepareInputs(specs, profile: options.profile)
        let plans = try plans(specs, profile: options.profile)
        var summary = RunSummary()
        var globalIndex = 0
        var shardManifest = ShardManifest(shard: options.shard, profile: options.profile, experiments: [])
        var renderErrors: [String] = []
        for plan in plans {
            var indices: [Int] = []
            for i in plan.configurations.indices {
                if options.shard?.contains(globalIndex: globalIndex) ?? true { indices.append(i) }
                globalIndex += 1
            }
            let shardCache = options.shard.map { ResultCache(directory: layout.shard($0).appendingPathComponent("cache")) }
            let (entries, counts) = try await results(plan, indices: indices, readCache: true, alsoStoreIn: shardCache)
            summary.experiments.append(counts)
            if options.shard != nil {
                shardManifest.experiments.append(.init(id: plan.id, keys: indices.map { plan.keys[$0] }))
            } else {
                summary.written += try emit(plan, entries: entries, renderErrors: &renderErrors)
            }
        }
        if let shard = options.shard {
            let url = layout.shard(shard).appendingPathComponent(ShardManifest.fileName)
            try AtomicFile.write(try shardManifest.json().data(), to: url)
            summary.written.append(url)
        } else {
            summary.written.append(try writeReport())
        }
        if !renderErrors.isEmpty {
            throw ExperimentError("outputs written but figures not rendered: " + renderErrors.joined(separator: "; "))
        }
        return summary
    }

    /// The entries for `indices` of the plan, from the cache when allowed, computed otherwise.
    func results(_ plan: ExperimentPlan, indices: [Int], readCache: Bool,
                 alsoStoreIn extra: ResultCache? = nil) async throws -> ([CacheEntry], RunSummary.Counts) {
        var counts = RunSummary.Counts(id: plan.id, total: indices.count)
        var entries: [CacheEntry] = []
        let started = Date()
        var computeTime: TimeInterval = 0
        let log: @Sendable (String) -> Void = { [progress] in progress.note($0) }
        for (n, i) in indices.enumerated() {
            let configuration = plan.configurations[i]
            let key = plan.keys[i]
            let eta = counts.computed > 0 ? computeTime / Double(counts.computed) * Double(indices.count - n) : nil
            var entry: CacheEntry?
            if readCache {
                switch cache.lookup(experiment: plan.id, key: key, configuration: configuration) {
                case .hit(let hit): entry = hit
                case .miss: break
                case .discarded(let reason):
                    counts.discarded += 1
                    progress.note("warning: discarded cache entry \(reason); recomputing", force: true)
                }
            }
            progress.update(ProgressLine.line(experiment: plan.id, position: n + 1, total: indices.count,
                                              elapsed: Date().timeIntervalSince(started), eta: eta, cached: entry != nil))
            if entry == nil {
                let context = RunContext(experimentID: plan.id, profile: plan.profile, inputDigests: plan.inputDigests,
                                         resources: resources, log: log, artifacts: layout.artifacts)
                let t0 = Date()
                let record: ResultRecord
                do {
                    record = try await plan.spec.run(configuration, context: context)
                    try record.validate()
                } catch {
                    progress.finish("[\(plan.id)] stopped at config \(n + 1)/\(indices.count)")
                    throw ExperimentError("\(plan.id) config \(n + 1)/\(indices.count) (\(configuration)): \(error)")
                }
                let seconds = Date().timeIntervalSince(t0)
                computeTime += seconds
                let computed = CacheEntry(experiment: plan.id, key: key, configuration: configuration,
                                          codeVersion: plan.codeVersion, inputDigests: plan.inputDigests,
                                          record: record, computeSeconds: seconds)
                try cache.store(computed)
                counts.computed += 1
                entry = computed
            } else {
                counts.cached += 1
            }
            try extra?.store(entry!)
            entries.append(entry!)
        }
        progress.finish("[\(plan.id)] \(indices.count) configs: \(counts.computed) computed, \(counts.cached) cached"
                        + (counts.discarded > 0 ? ", \(counts.discarded) damaged entries redone" : "")
                        + "  elapsed \(ProgressLine.clock(Date().timeIntervalSince(started)))")
        return (entries, counts)
    }
}
