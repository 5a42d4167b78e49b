import Foundation

// Writes a Swift file with the SHA-256 of every module's files (and of each file of the
// module the plugin is applied to), so a binary carries a digest of the code it was
// compiled from. Run by the SourceDigest build-tool plugin:
//
//   SourceDigestTool OUTPUT.swift [--module NAME ROOT [--needs A,B] [--per-file] FILE...]...
//
// A module's digest covers its files' paths relative to ROOT and their contents; --needs
// lists the modules it depends on, directly or not, so specs can name a module alone.

struct Module {
    var name: String
    var root: String
    var perFile = false
    var needs: [String] = []
    var files: [String] = []
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("SourceDigestTool: \(message)\n".utf8))
    exit(1)
}

func parse(_ arguments: [String]) -> (output: String, modules: [Module]) {
    guard let output = arguments.first else { fail("usage: SourceDigestTool OUTPUT [--module NAME ROOT [--per-file] FILE...]...") }
    var modules: [Module] = []
    var i = 1
    while i < arguments.count {
        guard arguments[i] == "--module", i + 2 < arguments.count else { fail("expected --module NAME ROOT at '\(arguments[i])'") }
        var module = Module(name: arguments[i + 1], root: arguments[i + 2])
        i += 3
        while i < arguments.count && arguments[i] != "--module" {
            if arguments[i] == "--per-file" {
                module.perFile = true
            } else if arguments[i] == "--needs", i + 1 < arguments.count {
                module.needs = arguments[i + 1].split(separator: ",").map(String.init)
                i += 1
            } else {
                module.files.append(arguments[i])
            }
            i += 1
        }
        modules.append(module)
    }
    return (output, modules)
}

func relative(_ path: String, to root: String) -> String {
    let prefix = root.hasSuffix("/") ? root : root + "/"
    guard path.hasPrefix(prefix) else { fail("\(path) is not under \(root)") }
    return String(path.dropFirst(prefix.count))
}

func literal(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

let (output, modules) = parse(Array(CommandLine.arguments.dropFirst()))
var moduleLines: [String] = []
var fileLines: [String] = []
var needLines: [String] = []
for module in modules.sorted(by: { $0.name < $1.name }) {
    var digests: [(path: String, digest: String)] = []
    for file in module.files {
        guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
        digests.append((relative(file, to: module.root), SHA256.hex([UInt8](data))))
    }
    digests.sort { $0.path < $1.path }
    // Paths are part of the digest: a renamed or moved file changes it too.
    let summary = digests.map { "\($0.path)\u{0}\($0.digest)\n" }.joined()
    moduleLines.append("        \(literal(module.name)): \(literal(SHA256.hex(summary))),")
    needLines.append("        \(literal(module.name)): [\(module.needs.sorted().map(literal).joined(separator: ", "))],")
    if module.perFile {
        for d in digests { fileLines.append("        \(literal(module.name + "/" + d.path)): \(literal(d.digest)),") }
    }
}
let text = """
// Generated at build time by SourceDigestTool (Plugins/SourceDigest); not in the repository.

/// SHA-256 of the sources and bundled data this binary was compiled from.
enum BuildSourceDigests {
    /// Module name ("Package" for Package.swift) -> digest of all its files.
    static let modules: [String: String] = [
\(moduleLines.isEmpty ? "        :" : moduleLines.joined(separator: "\n"))
    ]
    /// Module name -> the modules it depends on, directly or not.
    static let needs: [String: [String]] = [
\(needLines.isEmpty ? "        :" : needLines.joined(separator: "\n"))
    ]
    /// "Module/relative/path.swift" -> digest, for the module the plugin is applied to.
    static let files: [String: String] = [
\(fileLines.isEmpty ? "        :" : fileLines.joined(separator: "\n"))
    ]
}

"""
// Unchanged content is not rewritten, so an unchanged digest does not force a recompile.
if FileManager.default.contents(atPath: output) != Data(text.utf8) {
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch { fail("cannot write \(output): \(error)") }
}
