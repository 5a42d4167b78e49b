import Foundation
import Report

/// Outcome of `verify`.
public struct GoldenReport: Sendable, Equatable {
    /// Experiments compared against a golden file.
    public var checked: [String] = []
    /// Experiments without a golden file.
    public var skipped: [String] = []
    /// One readable line per disagreeing value.
    public var differences: [String] = []
    /// Golden files written (update mode).
    public var written: [URL] = []

    public var passed: Bool { differences.isEmpty }

    /// Throws when any value disagrees, so the command exits non-zero.
    public func check() throws {
        guard passed else {
            throw ExperimentError("verify: \(differences.count) value\(differences.count == 1 ? "" : "s") differ from the golden files")
        }
    }
}

extension Runner {
    /// Recomputes the selected experiments under `options.profile` (quick for CI) and
    /// compares them with `<goldenDirectory>/<id>.json`; with `update`, writes those files
    /// instead. Results are recomputed unless `useCache` (fresh results still refresh the cache).
    public func verify(goldenDirectory: URL, update: Bool = false, useCache: Bool = false) async throws -> GoldenReport {
        var report = GoldenReport()
        for spec in try registry.select(options.only) {
            let url = goldenDirectory.appendingPathComponent("\(spec.id).json")
            let exists = FileManager.default.fileExists(atPath: url.path)
            if !update && !exists {
                report.skipped.append(spec.id)
                continue
            }
            // Load first: a hand-edited golden file fails before any computing.
            let golden = update ? nil : try GoldenFile.load(url)
            try await prepareInputs([spec], profile: options.profile)
            let plan = try ExperimentPlan(spec: spec, profile: options.profile, digests: digests, artifacts: layout.artifacts)
            let (entries, _) = try await results(plan, indices: Array(plan.configurations.indices), readCache: useCache)
            let fresh = GoldenFile(
                experiment: spec.id, profile: options.profile,
                results: entries.map { ExperimentResult(configuration: $0.configuration, record: $0.record) },
                tolerance: { spec.goldenTolerance(for: $0, origin: $1) })
            if let golden {
                report.checked.append(spec.id)
                report.differences += golden.differences(from: fresh)
            } else {
                try fresh.write(to: url)
                report.written.append(url)
            }
        }
        if !update && report.checked.isEmpty {
            throw ExperimentError("verify: no golden files in \(goldenDirectory.path) for the selected experiments "
                                  + "(create them with `make golden`)")
        }
        return report
    }
}
