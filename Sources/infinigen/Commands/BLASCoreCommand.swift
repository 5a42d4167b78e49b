import ArgumentParser
import Foundation
import Numerics

/// Which OpenBLAS kernel the program selects in this environment, for processes that
/// cannot re-execute themselves to get it (`make test` exports it as OPENBLAS_CORETYPE
/// before starting the test process).
struct BLASCoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blas-core",
        abstract: "Print the OpenBLAS kernel infinigen selects here (from the CPU flags, or INFINIGEN_BLAS_CORE); empty when it leaves the choice to OpenBLAS.")

    func run() throws {
        let want = BLASRuntime.desiredCore(environment: ProcessInfo.processInfo.environment)
        print(want ?? "")
        // The library may refuse a kernel this CPU cannot run; say so rather than let a
        // caller believe it got what it asked for.
        if let want, want.caseInsensitiveCompare(BLASRuntime.coreName) != .orderedSame {
            throw CLIError("OpenBLAS did not load the \(want) kernel (it runs \(BLASRuntime.coreName))")
        }
    }
}
