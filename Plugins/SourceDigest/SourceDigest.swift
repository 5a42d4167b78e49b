import Foundation
import PackagePlugin

/// Generates `BuildSourceDigests` for the target it is applied to: a SHA-256 per module of
/// the target's recursive dependencies (every file under the module's directory, bundled
/// resources included), per file of the target itself, and of Package.swift (compiler
/// flags change numbers too). Every hashed file is an input of the build command, so
/// SwiftPM reruns it whenever one changes and the binary's digests always describe the
/// code it was compiled from.
@main
struct SourceDigest: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildSourceDigests.swift")
        var arguments = [output.path]
        var inputs: [URL] = []
        let modules = [target] + target.recursiveTargetDependencies
        for module in modules {
            // `directoryURL` needs tools version 6.1; `String(describing:)` reads the 6.0
            // `Path` without naming its deprecated accessors.
            let root = URL(fileURLWithPath: String(describing: module.directory)).standardizedFileURL
            let files = try Self.files(under: root)
            arguments += ["--module", module.name, root.path,
                          "--needs", module.recursiveTargetDependencies.map(\.name).sorted().joined(separator: ",")]
            if module.id == target.id { arguments.append("--per-file") }
            arguments += files.map(\.path)
            inputs += files
        }
        let manifest = context.package.directoryURL.appendingPathComponent("Package.swift").standardizedFileURL
        arguments += ["--module", "Package", manifest.deletingLastPathComponent().path, manifest.path]
        inputs.append(manifest)
        return [.buildCommand(displayName: "Digesting the sources of \(target.name)",
                              executable: try context.tool(named: "SourceDigestTool").url,
                              arguments: arguments, inputFiles: inputs, outputFiles: [output])]
    }

    /// Regular files under `root`, hidden ones skipped, sorted (the order is not part of
    /// the digest, but a stable command line avoids needless reruns).
    static func files(under root: URL) throws -> [URL] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey],
                                                          options: [.skipsHiddenFiles]) else {
            throw SourceDigestError("cannot list \(root.path)")
        }
        var files: [URL] = []
        for case let url as URL in walker where try url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true {
            files.append(url.standardizedFileURL)
        }
        return files.sorted { $0.path < $1.path }
    }
}

struct SourceDigestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
