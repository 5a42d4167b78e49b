import Foundation
import Model

/// The five few-shot tasks of the accuracy study, loaded from `$INFINIGEN_CACHE/tasks/`
/// (see docs/ASSETS.md).
public enum Tasks {
    /// Tasks whose prompts come ready-made as OLMES ranked-classification request files.
    public static let requestFileTasks = ["piqa", "winogrande", "openbookqa"]
    /// Tasks whose prompts are built here from the validation split.
    public static let validationTasks = ["copa", "rte"]
    public static var names: [String] { requestFileTasks + validationTasks }

    /// Loads `name` with `shots` in-context examples. Request-file tasks exist with 0 or 5
    /// shots; COPA and RTE accept any count below their row count.
    /// - Parameter directory: the folder holding the task files (default: the cache's `tasks/`).
    public static func load(_ name: String, shots: Int = 5, limit: Int? = nil, directory: URL? = nil) throws -> FewShotTask {
        if let limit, limit < 0 { throw FewShotError("limit must be non-negative (got \(limit))") }
        let folder = directory ?? Assets.cacheDirectory().appendingPathComponent("tasks", isDirectory: true)
        var task: FewShotTask
        switch name {
        case "piqa", "winogrande", "openbookqa":
            guard shots == 0 || shots == 5 else {
                throw FewShotError("\(name) exists with 0 or 5 shots (asked for \(shots))")
            }
            task = try requestFileTask(name, shots: shots, file: folder.appendingPathComponent("\(name)_rc_\(shots)shot.jsonl"))
        case "copa":
            task = try validationTask(COPARow.self, name: name, shots: shots, file: folder.appendingPathComponent("copa_validation.jsonl"))
        case "rte":
            task = try validationTask(RTERow.self, name: name, shots: shots, file: folder.appendingPathComponent("rte_validation.jsonl"))
        default:
            throw FewShotError("unknown task \"\(name)\" (known: \(names.joined(separator: ", ")))")
        }
        task.limit = limit
        return task
    }
}
