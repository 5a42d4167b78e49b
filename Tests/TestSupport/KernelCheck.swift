import Foundation
import Numerics

/// Tests must run under the OpenBLAS kernel the program selects (kernels round
/// differently, and Debian's library silently falls back to its slowest one). The
/// program re-executes itself to get it; a test process cannot, so `make test` sets
/// `OPENBLAS_CORETYPE` from `infinigen blas-core` before starting it.
public enum KernelCheck {
    /// Nil when the loaded kernel is the program's choice for this environment (or the
    /// program leaves the choice to OpenBLAS); else what is wrong and how to fix it.
    public static func problem(environment: [String: String] = ProcessInfo.processInfo.environment,
                               loaded: String = BLASRuntime.coreName) -> String? {
        guard let want = BLASRuntime.desiredCore(environment: environment) else { return nil }
        if want.caseInsensitiveCompare(loaded) == .orderedSame { return nil }
        let set = environment["OPENBLAS_CORETYPE"].map { "OPENBLAS_CORETYPE=\($0)" } ?? "OPENBLAS_CORETYPE unset"
        return "OpenBLAS runs the \(loaded) kernel (\(set)) but infinigen selects \(want) here: "
            + "run the tests with `make test`, or export OPENBLAS_CORETYPE=\(want) "
            + "(INFINIGEN_BLAS_CORE=<name> forces a kernel for both)"
    }
}
