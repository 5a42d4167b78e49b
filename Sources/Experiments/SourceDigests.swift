import Report

/// SHA-256 digests of the sources and bundled data this binary was compiled from, made at
/// build time by the SourceDigest plugin (so they can never describe other code than the
/// binary's). A spec's code version is the digest of the part its `codeDependencies`
/// select; it enters every cache key, so a result cannot outlive the code that made it.
public struct SourceDigests: Sendable, Equatable {
    /// Module name ("Package" for Package.swift) -> digest of all its files.
    public var modules: [String: String]
    /// Module name -> the modules it depends on, directly or not.
    public var needs: [String: [String]]
    /// "Experiments/relative/path.swift" -> digest.
    public var files: [String: String]

    public init(modules: [String: String], needs: [String: [String]], files: [String: String]) {
        self.modules = modules
        self.needs = needs
        self.files = files
    }

    /// The digests compiled into this binary.
    public static let build = SourceDigests(modules: BuildSourceDigests.modules, needs: BuildSourceDigests.needs,
                                            files: BuildSourceDigests.files)

    /// The table code versions are computed from: `build`, or what a test injects with
    /// `SourceDigests.$current.withValue(...)`.
    @TaskLocal public static var current: SourceDigests = .build

    static let module = "Experiments"
    static let specsFolder = "Experiments/Specs/"

    /// A copy with one module's digest replaced (tests: "this module changed").
    public func changing(module name: String, to digest: String = "changed") -> SourceDigests {
        var copy = self
        copy.modules[name] = digest
        return copy
    }

    /// The modules `dependencies` select, with their dependencies, and Package.swift.
    public func modules(of dependencies: CodeDependencies) -> [String] {
        let named: [String]
        switch dependencies.modules {
        case .all: named = Array(modules.keys)
        case .only(let names): named = names
        case .allExcept(let names): named = modules.keys.filter { !names.contains($0) }
        }
        var selected = Set(named + ["Package"])
        for name in named { selected.formUnion(needs[name] ?? []) }
        return selected.sorted()
    }

    /// The Experiments files `dependencies` select (this module enters by file, never whole).
    public func files(of dependencies: CodeDependencies) -> [String] {
        files.keys.filter { path in
            guard path.hasPrefix(Self.specsFolder) else { return true }
            let name = String(path.dropFirst(Self.specsFolder.count))
            switch dependencies.specFiles {
            case .all: return true
            case .only(let prefixes): return prefixes.contains { name.hasPrefix($0) }
            case .allExcept(let prefixes): return !prefixes.contains { name.hasPrefix($0) }
            }
        }.sorted()
    }

    /// Names a selection refers to that the table lacks (a typo, a removed module): their
    /// code would be left out of the version, so tests require this to be empty.
    public func unresolved(_ dependencies: CodeDependencies) -> [String] {
        modules(of: dependencies).filter { modules[$0] == nil }
    }

    /// "src-" and 16 hex digits of the digest of everything `dependencies` select.
    public func version(of dependencies: CodeDependencies) -> String {
        let selected = modules(of: dependencies).filter { $0 != Self.module }
        let lines = selected.map { "module \($0) \(modules[$0] ?? "missing")" }
            + files(of: dependencies).map { "file \($0) \(files[$0] ?? "missing")" }
        return "src-" + SHA256.hex(lines.joined(separator: "\n")).prefix(16)
    }
}
