import Foundation
import GGUF
import Model
import Numerics
import Tokenizer
import XCTest

/// The real SmolLM2 model, its GGUF file and tokenizer from the asset cache, each loaded
/// once per test process and shared by every test target; a skip when `make setup` has
/// not run.
public enum RealModel {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cachedFile: GGUFFile?
    nonisolated(unsafe) private static var cachedModel: LlamaModel?
    nonisolated(unsafe) private static var cachedTokenizer: BPETokenizer?
    nonisolated(unsafe) private static var texts: [String: [Int]] = [:]

    /// The model file's path, or a skip saying how to get it.
    public static func path() throws -> String {
        do { return try Assets.modelPath(searchFrom: #filePath) } catch { throw XCTSkip("\(error)") }
    }

    public static func file() throws -> GGUFFile {
        lock.lock(); defer { lock.unlock() }
        return try loadFile()
    }

    /// The model, with the tests' thread counts (2: the reference machine's cores).
    public static func model() throws -> LlamaModel {
        lock.lock(); defer { lock.unlock() }
        if let m = cachedModel { return m }
        let file = try loadFile()
        if let problem = KernelCheck.problem() {
            // The NumericsTests check fails on this; say it here too for filtered runs.
            FileHandle.standardError.write(Data("warning: \(problem)\n".utf8))
        }
        BLASRuntime.setThreads(2)
        Parallel.threads = 2
        let m = try LlamaModel(gguf: file)
        cachedModel = m
        return m
    }

    public static func tokenizer() throws -> BPETokenizer {
        lock.lock(); defer { lock.unlock() }
        if let t = cachedTokenizer { return t }
        let t = try BPETokenizer.from(gguf: try loadFile())
        cachedTokenizer = t
        return t
    }

    /// The first `count` tokens of a novel from the asset cache (no BOS), or a skip.
    public static func novelTokens(_ name: String, count: Int) throws -> [Int] {
        let tokenizer = try tokenizer()
        lock.lock(); defer { lock.unlock() }
        if let t = texts[name], t.count >= count { return Array(t.prefix(count)) }
        let path: String
        do { path = try Assets.novelPath(name, searchFrom: #filePath) } catch { throw XCTSkip("\(error)") }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        // English prose stays below 8 characters per token; the cut lies far beyond the
        // last token kept, so the tokens are those of the whole text.
        let tokens = tokenizer.encode(String(text.prefix(count * 8)))
        guard tokens.count >= count else { throw XCTSkip("\(name) is shorter than \(count) tokens") }
        texts[name] = tokens
        return Array(tokens.prefix(count))
    }

    /// The Wikipedia sample from the asset cache, or a skip.
    public static func wikiText() throws -> String {
        do { return try String(contentsOfFile: try Assets.wikiPath(searchFrom: #filePath), encoding: .utf8) } catch {
            throw XCTSkip("\(error)")
        }
    }

    private static func loadFile() throws -> GGUFFile {
        if let f = cachedFile { return f }
        let f = try GGUFFile(path: try path())
        cachedFile = f
        return f
    }
}
