import Foundation
import XCTest
@testable import Evaluation

/// Orientation numbers for the README: full-cache accuracy of the real model on the first
/// N items of each task, and time per item. Opt-in (minutes of compute):
/// `INFINIGEN_FEWSHOT_ORIENTATION=200 swift test -c release -Xswiftc -enable-testing --filter FewShotOrientationTests`
/// (optional: INFINIGEN_FEWSHOT_TASKS=piqa,copa).
final class FewShotOrientationTests: XCTestCase {
    func testFullCacheAccuracy() throws {
        guard let value = ProcessInfo.processInfo.environment["INFINIGEN_FEWSHOT_ORIENTATION"], let n = Int(value), n > 0 else {
            throw XCTSkip("set INFINIGEN_FEWSHOT_ORIENTATION=<items per task> to run")
        }
        try RealAssets.releaseOnly()
        let env = ProcessInfo.processInfo.environment
        let names = env["INFINIGEN_FEWSHOT_TASKS"]?.split(separator: ",").map(String.init) ?? Tasks.names
        let (model, tokenizer) = try RealAssets.model()
        var lines = ["task        items  acc            acc_norm       s/item  tokens/s"]
        for name in names {
            let task = try RealAssets.task(name, limit: n)
            let r = try FewShot.evaluate(model: model, tokenizer: tokenizer, task: task)
            let count = r.records.count
            lines.append(name.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: " %6d  %.3f ± %.3f  %.3f ± %.3f  %6.3f  %7.0f", count,
                                r.accuracy.value, r.accuracy.stderr ?? 0, r.accuracyNorm.value, r.accuracyNorm.stderr ?? 0,
                                r.seconds / Double(count), Double(r.tokensProcessed) / r.seconds))
            // A working scorer on a real model is not below chance by more than 3 standard errors.
            let chance = 1 / Double(task.items[0].choiceCount)
            XCTAssertGreaterThan(r.accuracy.value, chance - 3 * (r.accuracy.stderr ?? 1), name)
        }
        print(lines.joined(separator: "\n"))
    }
}
