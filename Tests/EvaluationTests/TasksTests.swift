import Foundation
import XCTest
import Model
@testable import Evaluation

/// Task loading from the cache and from hand-made files.
final class TasksTests: XCTestCase {
    func testRequestFileTasksHaveTheDocumentedShape() throws {
        let expected: [(String, Int, Int, Int)] = [  // name, shots, items, choices
            ("piqa", 5, 1000, 2), ("piqa", 0, 1838, 2), ("winogrande", 5, 1267, 2), ("openbookqa", 5, 500, 4),
        ]
        for (name, shots, count, choices) in expected {
            let task = try RealAssets.task(name, shots: shots)
            XCTAssertEqual(task.items.count, count, name)
            XCTAssertEqual(task.items.map(\.id), Array(0..<count), "\(name): doc_id order")
            XCTAssertTrue(task.items.allSatisfy { $0.choiceCount == choices }, name)
            XCTAssertTrue(task.items.allSatisfy { $0.continuations.allSatisfy { $0.hasPrefix(" ") } },
                          "\(name): continuations start with a space")
            XCTAssertTrue(task.items.allSatisfy { $0.contexts.allSatisfy { !($0.last?.isWhitespace ?? true) } },
                          "\(name): contexts end without whitespace")
        }
        let wino = try RealAssets.task("winogrande")
        XCTAssertTrue(wino.items.allSatisfy { Set($0.contexts).count == 2 && Set($0.continuations).count == 1 },
                      "WinoGrande: contexts differ, continuation shared")
        let piqa = try RealAssets.task("piqa")
        XCTAssertEqual(piqa.items[0].gold, 0)
        XCTAssertTrue(piqa.items[0].contexts[0].hasSuffix("Goal: Brown sausages.\nAnswer:"))
    }

    func testCOPAPromptIsBuiltByTheDocumentedRule() throws {
        let task = try RealAssets.task("copa")
        XCTAssertEqual(task.items.count, 100)
        let item = task.items[0]  // premise "The man turned on the faucet.", effect, label 1
        XCTAssertEqual(item.continuations, [" the toilet filled with water.", " water flowed from the spout."])
        XCTAssertEqual(item.gold, 1)
        XCTAssertEqual(item.contexts[0], item.contexts[1])
        let blocks = item.contexts[0].components(separatedBy: "\n\n")
        XCTAssertEqual(blocks.count, 6, "5 examples and the question")
        XCTAssertEqual(blocks.last, "The man turned on the faucet therefore")
        // Example rows for item 0 by SplitMix64(0): 35, 80, 31, 2, 37 (checked against the Python rule).
        XCTAssertEqual(try TasksSampler.examples(for: 0, rowCount: 100, shots: 5), [35, 80, 31, 2, 37])
        XCTAssertEqual(blocks[3], "The woman retired therefore she received her pension.", "row 2 as an example")
        XCTAssertTrue(task.notes.contains("validation"))
    }

    func testRTEPromptIsBuiltByTheDocumentedRule() throws {
        let task = try RealAssets.task("rte", limit: 10)
        XCTAssertEqual(task.items.count, 277)
        XCTAssertEqual(task.evaluatedItems.count, 10)
        let item = task.items[0]
        XCTAssertEqual(item.continuations, [" True", " False"])
        XCTAssertEqual(item.gold, 1)
        XCTAssertTrue(item.contexts[0].hasSuffix(
            "\n\nDana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, "
            + "according to the Christopher Reeve Foundation.\nQuestion: Christopher Reeve had an accident. "
            + "True or False?\nAnswer:"))
        XCTAssertEqual(item.contexts[0].components(separatedBy: "\nAnswer:").count, 7, "6 answers: 5 shots and the question")
        XCTAssertTrue(task.notes.contains("left out"))
    }

    func testSamplerLeavesTheScoredRowOutAndIsDeterministic() throws {
        var first = SplitMix64(seed: 0)
        XCTAssertEqual(first.next(), 0xE220_A839_7B1D_CDAF, "SplitMix64 reference value")
        for n in [6, 100, 277] {
            for i in 0..<n {
                let ex = try TasksSampler.examples(for: i, rowCount: n, shots: 5)
                XCTAssertEqual(ex.count, 5)
                XCTAssertEqual(Set(ex).count, 5)
                XCTAssertFalse(ex.contains(i))
                XCTAssertTrue(ex.allSatisfy { (0..<n).contains($0) })
                XCTAssertEqual(ex, try TasksSampler.examples(for: i, rowCount: n, shots: 5))
            }
        }
        XCTAssertThrowsError(try TasksSampler.examples(for: 0, rowCount: 5, shots: 5))
        XCTAssertThrowsError(try TasksSampler.examples(for: 7, rowCount: 5, shots: 1))
    }

    func testZeroShotCOPAHasNoExamples() throws {
        let dir = try scratchDirectory()
        try write(dir, "copa_validation.jsonl", """
            {"premise": "The man fell.", "choice1": "He slipped.", "choice2": "He won.", "question": "cause", "idx": 0, "label": 0}
            {"premise": "It rained.", "choice1": "The ground got wet.", "choice2": "The sun rose.", "question": "effect", "idx": 1, "label": 0}
            """)
        let zero = try Tasks.load("copa", shots: 0, directory: dir)
        XCTAssertEqual(zero.items[0].contexts[0], "The man fell because")
        XCTAssertEqual(zero.items[1].continuations, [" the ground got wet.", " the sun rose."])
        let one = try Tasks.load("copa", shots: 1, directory: dir)
        XCTAssertEqual(one.items[0].contexts[0], "It rained therefore the ground got wet.\n\nThe man fell because")
    }

    func testBadInputGivesOneLineErrors() throws {
        let dir = try scratchDirectory()
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { _ = try Tasks.load("hellaswag", directory: dir) }.contains("unknown task"))
        XCTAssertTrue(message { _ = try Tasks.load("piqa", shots: 3, directory: dir) }.contains("0 or 5 shots"))
        XCTAssertTrue(message { _ = try Tasks.load("piqa", directory: dir) }.contains("missing task file"))
        XCTAssertTrue(message { _ = try Tasks.load("piqa", limit: -1, directory: dir) }.contains("non-negative"))

        try write(dir, "piqa_rc_5shot.jsonl", """
            {"doc_id": 0, "idx": 0, "label": 0, "context": "Q:", "continuation": " a"}
            {"doc_id": 0, "idx": 1, "label": 0, "context": "Q:"}
            """)
        XCTAssertEqual(message { _ = try Tasks.load("piqa", directory: dir) },
                       "piqa_rc_5shot.jsonl line 2: missing field \"continuation\"")
        try write(dir, "piqa_rc_5shot.jsonl", "{\"doc_id\": 0, \"idx\": 0,\n")
        XCTAssertTrue(message { _ = try Tasks.load("piqa", directory: dir) }.contains("line 1: not valid JSON"))
        try write(dir, "piqa_rc_5shot.jsonl", """
            {"doc_id": 0, "idx": 0, "label": 0, "context": "Q:", "continuation": " a"}
            {"doc_id": 0, "idx": 2, "label": 0, "context": "Q:", "continuation": " b"}
            """)
        XCTAssertTrue(message { _ = try Tasks.load("piqa", directory: dir) }.contains("expected 0..<2"))
        try write(dir, "piqa_rc_5shot.jsonl", """
            {"doc_id": 0, "idx": 0, "label": 3, "context": "Q:", "continuation": " a"}
            {"doc_id": 0, "idx": 1, "label": 3, "context": "Q:", "continuation": " b"}
            """)
        XCTAssertTrue(message { _ = try Tasks.load("piqa", directory: dir) }.contains("gold 3 is not a choice"))
        try write(dir, "rte_validation.jsonl", """
            {"sentence1": "A.", "sentence2": "B.", "label": 0, "idx": 0}
            """)
        XCTAssertTrue(message { _ = try Tasks.load("rte", directory: dir) }.contains("need at least 2"))
        try write(dir, "copa_validation.jsonl", """
            {"premise": "A.", "choice1": "B.", "choice2": "C.", "question": "why", "idx": 0, "label": 0}
            {"premise": "A.", "choice1": "B.", "choice2": "C.", "question": "cause", "idx": 1, "label": 0}
            """)
        XCTAssertTrue(message { _ = try Tasks.load("copa", shots: 1, directory: dir) }.contains("cause or effect"))
    }

    private func scratchDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fewshot-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    private func write(_ dir: URL, _ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
}
