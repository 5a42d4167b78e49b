import Foundation

/// What produced a set of numbers: code state, inputs, machine and run settings.
/// `timestamp` and `wallTimeSeconds` change on every run, so `stableJSON()` leaves
/// them out; that is the part that enters content hashes.
public struct Provenance: Codable, Sendable, Equatable {
    public struct Machine: Codable, Sendable, Equatable {
        public var cpuModel: String
        public var logicalCores: Int
        public var memoryBytes: UInt64
        public var operatingSystem: String

        public init(cpuModel: String, logicalCores: Int, memoryBytes: UInt64, operatingSystem: String) {
            self.cpuModel = cpuModel
            self.logicalCores = logicalCores
            self.memoryBytes = memoryBytes
            self.operatingSystem = operatingSystem
        }
    }

    public struct BLAS: Codable, Sendable, Equatable {
        /// e.g. "OpenBLAS 0.3.21 Haswell"
        public var kernel: String
        public var threads: Int

        public init(kernel: String, threads: Int) {
            self.kernel = kernel
            self.threads = threads
        }
    }

    public var toolVersion: String
    /// nil when the directory is not a git checkout or git is missing.
    public var gitCommit: String?
    /// Tracked files modified relative to `gitCommit` (untracked files do not count).
    public var gitDirty: Bool?
    /// The full run configuration, as the caller describes it.
    public var config: JSONValue
    /// Input name → sha256 (model file, data files).
    public var assets: [String: String]
    public var machine: Machine
    public var blas: BLAS?
    public var wallTimeSeconds: Double
    /// ISO 8601, UTC.
    public var timestamp: String

    public init(toolVersion: String, gitCommit: String?, gitDirty: Bool?, config: JSONValue,
                assets: [String: String], machine: Machine, blas: BLAS?, wallTimeSeconds: Double,
                timestamp: String) {
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.gitDirty = gitDirty
        self.config = config
        self.assets = assets
        self.machine = machine
        self.blas = blas
        self.wallTimeSeconds = wallTimeSeconds
        self.timestamp = timestamp
    }

    /// Fields that differ between two runs that computed the same thing.
    public static let volatileKeys: Set<String> = ["timestamp", "wallTimeSeconds"]

    public func json() throws -> JSONValue {
        // Splice `config` in directly: Foundation's encoder would turn 4.0 into 4.
        guard case .object(var members) = try JSONValue(encoding: self) else {
            throw ReportError("provenance did not encode as a JSON object")
        }
        members["config"] = config
        return .object(members)
    }

    /// The provenance without its volatile fields, for content hashes.
    public func stableJSON() throws -> JSONValue {
        guard case .object(var members) = try json() else { throw ReportError("provenance did not encode as a JSON object") }
        for key in Provenance.volatileKeys { members[key] = nil }
        return .object(members)
    }

    /// One line for reports: "commit 1a2b3c4 (dirty), Intel Xeon ..., 2 cores, 24.0 GB, OpenBLAS x 2 threads".
    public var summaryLine: String {
        var parts: [String] = []
        if let commit = gitCommit {
            parts.append("commit \(commit.prefix(10))" + (gitDirty == true ? " (dirty)" : ""))
        } else {
            parts.append("commit unknown")
        }
        parts.append("infinigen \(toolVersion)")
        parts.append(machine.cpuModel)
        parts.append("\(machine.logicalCores) cores")
        parts.append(String(format: "%.1f GB RAM", Double(machine.memoryBytes) / 1e9))
        if let blas { parts.append("\(blas.kernel), \(blas.threads) thread\(blas.threads == 1 ? "" : "s")") }
        return parts.joined(separator: ", ")
    }
}
