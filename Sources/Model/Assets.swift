import Foundation

/// Where `make setup` puts the pinned model and data (`scripts/fetch_assets.py` owns the
/// layout): `$INFINIGEN_CACHE`, or `<repo>/.cache/infinigen`.
public enum Assets {
    public static let modelFile = "model/SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let novels = ["prideprejudice", "emma", "mansfieldpark", "northangerabbey", "persuasion", "sensesensibility"]

    /// The cache folder. `searchFrom` is a path inside the repository (a source file or
    /// the executable) used to find the repository root when the variable is unset.
    public static func cacheDirectory(searchFrom: String? = nil) -> URL {
        if let env = ProcessInfo.processInfo.environment["INFINIGEN_CACHE"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return repositoryRoot(searchFrom: searchFrom).appendingPathComponent(".cache/infinigen", isDirectory: true)
    }

    /// The folder holding Package.swift above `searchFrom` (or the executable, or the
    /// working directory).
    public static func repositoryRoot(searchFrom: String? = nil) -> URL {
        let fm = FileManager.default
        let starts = [searchFrom, Bundle.main.executablePath, fm.currentDirectoryPath].compactMap { $0 }
        for start in starts {
            var url = URL(fileURLWithPath: start)
            for _ in 0..<12 {
                if fm.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
                let parent = url.deletingLastPathComponent()
                if parent.path == url.path { break }
                url = parent
            }
        }
        return URL(fileURLWithPath: fm.currentDirectoryPath, isDirectory: true)
    }

    /// Path of an asset, or an error telling how to get it.
    public static func path(_ relative: String, searchFrom: String? = nil) throws -> String {
        let url = cacheDirectory(searchFrom: searchFrom).appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError("missing asset \(url.path): run `make setup` (or set INFINIGEN_CACHE to a prepared cache)")
        }
        return url.path
    }

    public static func modelPath(searchFrom: String? = nil) throws -> String {
        try path(modelFile, searchFrom: searchFrom)
    }

    public static func novelPath(_ name: String, searchFrom: String? = nil) throws -> String {
        try path("text/austen/\(name).txt", searchFrom: searchFrom)
    }

    public static func wikiPath(searchFrom: String? = nil) throws -> String {
        try path("text/wiki.txt", searchFrom: searchFrom)
    }
}
