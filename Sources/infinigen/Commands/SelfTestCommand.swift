import ArgumentParser
import Foundation
import Numerics

/// Checks the loaded OpenBLAS kernel against a plain loop: old OpenBLAS builds have
/// computed wrong results on some processors, and the kernel is our own choice.
struct SelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "selftest-blas",
        abstract: "Compare the selected OpenBLAS kernel's sgemm/sgemv with plain loops; prints the kernel name.")

    func run() throws {
        let report = BLASSelfTest.run()
        print("kernel \(BLASRuntime.coreName) max relative error sgemm \(report.sgemmError) sgemv \(report.sgemvError)")
        guard report.passed else { throw CLIError("OpenBLAS kernel \(BLASRuntime.coreName) computes wrong results (relative error \(max(report.sgemmError, report.sgemvError)))") }
    }
}
