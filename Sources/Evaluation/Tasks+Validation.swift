import Foundation

/// COPA and RTE: only their validation split is available, so the k-shot prompt of row i
/// is built from k other validation rows (`TasksSampler`), in lm-eval-harness format:
///
///     context = Σ over examples e: text(e) + choices(e)[label(e)] + "\n\n"   then   text(doc)
///     continuation of choice c = choices(doc)[c]
///
/// No task description, no BOS. Implemented independently in scripts/reference/fewshot_ref.py.
protocol ValidationRow: Decodable {
    var label: Int { get }
    func text() throws -> String
    func choices() throws -> [String]
    static var format: String { get }
}

extension Tasks {
    static func validationTask<Row: ValidationRow>(_ type: Row.Type, name: String, shots: Int, file: URL) throws -> FewShotTask {
        let rows = try TasksJSONL.read(file, as: Row.self)
        guard rows.count >= 2 else { throw FewShotError("\(file.lastPathComponent) has \(rows.count) rows; need at least 2") }
        let texts = try rows.map { try $0.text() }
        let choices = try rows.map { try $0.choices() }
        for (i, row) in rows.enumerated() where !choices[i].indices.contains(row.label) {
            throw FewShotError("\(file.lastPathComponent) row \(i): label \(row.label) is not a choice index")
        }
        let items = try rows.indices.map { i -> FewShotItem in
            let examples = try TasksSampler.examples(for: i, rowCount: rows.count, shots: shots)
            let prefix = examples.map { texts[$0] + choices[$0][rows[$0].label] + "\n\n" }.joined()
            let context = prefix + texts[i]
            return try FewShotItem(id: i, contexts: Array(repeating: context, count: choices[i].count),
                                   continuations: choices[i], gold: rows[i].label)
        }
        return FewShotTask(name: name, shots: shots, items: items, notes:
            "Built from \(file.lastPathComponent) (validation split, the only one available): each row's "
            + "\(shots) examples are drawn from the other \(rows.count - 1) validation rows, the scored row left out "
            + "(SplitMix64 seeded with the row index, partial Fisher-Yates over the other row indices); "
            + "lm-eval-harness format, examples joined by blank lines, no description, no BOS. \(Row.format)")
    }
}

/// SuperGLUE COPA (label 0 = choice1).
struct COPARow: ValidationRow {
    let premise: String
    let choice1: String
    let choice2: String
    let question: String
    let label: Int

    static let format = "COPA: premise without its final character (the period) + \" because\" (cause) or "
        + "\" therefore\" (effect); choices \" \" + choice with its first letter lowercased."

    func text() throws -> String {
        let connector: String
        switch question {
        case "cause": connector = "because"
        case "effect": connector = "therefore"
        default: throw FewShotError("COPA question must be cause or effect (got \"\(question)\")")
        }
        let scalars = premise.trimmingCharacters(in: .whitespacesAndNewlines).unicodeScalars
        guard scalars.count >= 2 else { throw FewShotError("COPA premise \"\(premise)\" is too short") }
        return String(String.UnicodeScalarView(scalars.dropLast())) + " " + connector
    }

    func choices() throws -> [String] {
        try [choice1, choice2].map { c in
            guard let first = c.unicodeScalars.first else { throw FewShotError("COPA choice is empty") }
            return " " + String(first).lowercased() + String(String.UnicodeScalarView(c.unicodeScalars.dropFirst()))
        }
    }
}

/// GLUE RTE (label 0 = entailment, scored as " True").
struct RTERow: ValidationRow {
    let sentence1: String
    let sentence2: String
    let label: Int

    static let format = "RTE: \"{sentence1}\\nQuestion: {sentence2} True or False?\\nAnswer:\" with choices "
        + "\" True\" (label 0, entailment) and \" False\" (label 1)."

    func text() throws -> String { "\(sentence1)\nQuestion: \(sentence2) True or False?\nAnswer:" }
    func choices() throws -> [String] { [" True", " False"] }
}
