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
