import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// Chooses OpenBLAS's compute kernel from the CPU's flags.
///
/// Debian's OpenBLAS 0.3.21 does not recognise newer CPUs and silently falls back to its
/// slowest kernel (Prescott: ~35 GFLOP/s instead of ~270). The kernel is fixed when the
/// library loads, so the program sets `OPENBLAS_CORETYPE` and re-executes itself once.
public enum BLASRuntime {
    /// Environment variable that overrides the choice: a core name (`SkylakeX`, `Haswell`,
    /// `Prescott`, ...), `auto` (from CPU flags, the default) or `inherit` (leave
    /// `OPENBLAS_CORETYPE` as the caller set it).
    public static let overrideVariable = "INFINIGEN_BLAS_CORE"
    static let reexecMarker = "INFINIGEN_BLAS_REEXEC"

    /// The kernel the CPU's flags call for, or nil when OpenBLAS's own detection is fine.
    public static func preferredCore(flags: Set<String> = cpuFlags()) -> String? {
        let avx512 = ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd"]
        if avx512.allSatisfy(flags.contains) { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        if flags.contains("avx") { return "Sandybridge" }
        return nil
    }

    /// The core this process wants given its environment.
    public static func desiredCore(environment: [String: String]) -> String? {
        switch environment[overrideVariable]?.trimmingCharacters(in: .whitespaces) {
        case nil, "", "auto": return preferredCore()
        case "inherit": return environment["OPENBLAS_CORETYPE"]
        case let name?: return name
        }
    }

    /// Call first thing in `main`: re-executes the process once with `OPENBLAS_CORETYPE`
    /// set if the loaded library was not told which kernel to use. Returns normally when
    /// no re-exec is needed (or possible).
    public static func ensureKernel() {
        let env = ProcessInfo.processInfo.environment
        guard let want = desiredCore(environment: env) else { return }
        if env["OPENBLAS_CORETYPE"] == want { return }
        if env[reexecMarker] != nil { return } // already tried once; report what we got
        setenv("OPENBLAS_CORETYPE", want, 1)
        setenv(reexecMarker, "1", 1)
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", &cargs)
        // execv only returns on failure: carry on with whatever kernel loaded.
        for p in cargs { free(p) }
    }

    /// The kernel OpenBLAS actually runs.
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    public static var config: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }

    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Flags from /proc/cpuinfo (empty where it is unreadable).
    public static func cpuFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            if let colon = line.firstIndex(of: ":") {
                return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            }
        }
        return []
    }

    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown CPU"
    }
}

import Foundation
