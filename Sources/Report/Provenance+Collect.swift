import Foundation

extension Provenance {
    /// Gathers git state and the machine description; everything else is passed in.
    public static func collect(toolVersion: String, config: JSONValue, assets: [String: String],
                               blas: BLAS?, wallTimeSeconds: Double,
                               repository: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                               now: Date = Date()) -> Provenance {
        let git = GitState.read(at: repository)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return Provenance(toolVersion: toolVersion, gitCommit: git.commit, gitDirty: git.dirty, config: config,
                          assets: assets, machine: .current(), blas: blas, wallTimeSeconds: wallTimeSeconds,
                          timestamp: formatter.string(from: now))
    }
}

extension Provenance.Machine {
    public static func current() -> Provenance.Machine {
        let info = ProcessInfo.processInfo
        return Provenance.Machine(cpuModel: cpuModelName() ?? "unknown CPU",
                                  logicalCores: info.activeProcessorCount,
                                  memoryBytes: info.physicalMemory,
                                  operatingSystem: info.operatingSystemVersionString)
    }

    /// The "model name" line of /proc/cpuinfo (Linux); nil elsewhere.
    static func cpuModelName(cpuinfo: URL = URL(fileURLWithPath: "/proc/cpuinfo")) -> String? {
        guard let text = try? String(contentsOf: cpuinfo, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { return name }
        }
        return nil
    }
}

/// Commit and dirty flag from the git command line; both nil when git or the repository is absent.
enum GitState {
    static func read(at directory: URL) -> (commit: String?, dirty: Bool?) {
        guard let head = run(["rev-parse", "HEAD"], in: directory),
              head.count == 40 || head.count == 64 else { return (nil, nil) }
        // Dirty means the code or inputs differ from the commit; the outputs a run rewrites
        // (artifacts/, figures/) would otherwise mark every regeneration dirty.
        let status = run(["status", "--porcelain", "--untracked-files=no", "--", ".",
                          ":(top,exclude)artifacts", ":(top,exclude)figures"], in: directory)
        return (head, status.map { !$0.isEmpty })
    }

    /// Output of a git command, trimmed; nil on any failure.
    private static func run(_ arguments: [String], in directory: URL) -> String? {
        guard let git = Executable.find("git") else { return nil }
        let process = Process()
        process.executableURL = git
        process.arguments = ["-C", directory.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Locates programs on PATH (Process needs an absolute path).
public enum Executable {
    public static func find(_ name: String,
                            path: String? = ProcessInfo.processInfo.environment["PATH"]) -> URL? {
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
