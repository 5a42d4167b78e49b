import Foundation
import XCTest
@testable import Experiments

/// A fresh directory, removed when the test ends (tied to the test, not to an object's
/// lifetime, which ARC may end early).
extension XCTestCase {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("experiments-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Collects progress output instead of writing to stderr.
final class TextSink: @unchecked Sendable {
    private let lock = NSLock()
    private var _text = ""
    var text: String { lock.withLock { _text } }
    func write(_ s: String) { lock.withLock { _text += s } }
}

func makeRunner(_ registry: ExperimentRegistry, root: URL, profile: RunProfile = .quick, only: [String]? = nil,
                shard: Shard? = nil, render: Bool = false, sink: TextSink = TextSink()) -> Runner {
    let options = RunnerOptions(profile: profile, only: only, shard: shard, quiet: false,
                                layout: OutputLayout(root: root), renderFigures: render, repository: root)
    return Runner(registry: registry, options: options,
                  progress: ProgressLine(quiet: false, interactive: false, sink: { sink.write($0) }))
}

/// Every configuration of `specs` in every profile, after the checks all specs share: at
/// least one per profile, no duplicates, each valid. `body` adds the spec's own checks.
func forEachConfiguration(of specs: [any ExperimentSpec],
                          _ body: (any ExperimentSpec, RunProfile, Configuration) throws -> Void,
                          file: StaticString = #filePath, line: UInt = #line) throws {
    for spec in specs {
        for profile in RunProfile.allCases {
            let configs = spec.configurations(profile: profile)
            XCTAssertFalse(configs.isEmpty, "\(spec.id) \(profile)", file: file, line: line)
            XCTAssertEqual(Set(configs.map(\.canonicalJSON)).count, configs.count, "\(spec.id) \(profile): duplicates",
                           file: file, line: line)
            for c in configs {
                try c.validate()
                try body(spec, profile, c)
            }
        }
    }
}
