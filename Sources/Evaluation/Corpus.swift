import Foundation
import Model
import Tokenizer

/// The long texts of the asset cache, by name: `wiki` (the Wikipedia sample, our
/// WikiText-2 stand-in) or a Jane Austen novel (`prideprejudice`, `emma`, ...; our PG-19
/// stand-in), or a path to any UTF-8 file.
public enum Corpus {
    public static var names: [String] { ["wiki"] + Assets.novels }

    /// The text InfiniGen's offline skewing is calibrated on (the artifact uses the first
    /// 2048 tokens of a PG-19 book); kept apart from the evaluation texts.
    public static let calibrationText = "emma"

    public static func path(_ name: String) throws -> String {
        if name == "wiki" { return try Assets.wikiPath() }
        if Assets.novels.contains(name) { return try Assets.novelPath(name) }
        guard FileManager.default.fileExists(atPath: name) else {
            throw ModelError("unknown text '\(name)': use one of \(names.joined(separator: ", ")) or a file path")
        }
        return name
    }

    public static func text(_ name: String) throws -> String {
        let p = try path(name)
        guard let data = FileManager.default.contents(atPath: p), let s = String(data: data, encoding: .utf8) else {
            throw ModelError("cannot read \(p) as UTF-8 text")
        }
        return s
    }

    /// The first `count` tokens of a text (fewer if it is shorter); tokenizing a prefix of
    /// the characters keeps this fast for long files.
    public static func tokens(_ name: String, tokenizer: BPETokenizer, count: Int, skip: Int = 0) throws -> [Int] {
        let s = try text(name)
        var chars = (count + skip) * 8
        while true {
            let prefix = String(s.prefix(chars))
            let ids = tokenizer.encode(prefix)
            // Drop the last few tokens: the cut may have split a word.
            if ids.count >= count + skip + 8 || prefix.count == s.count {
                return Array(ids.dropFirst(skip).prefix(count))
            }
            chars *= 2
        }
    }
}
