import Foundation
import XCTest
@testable import Numerics
import TestSupport

final class BLASTests: XCTestCase {
    func testKernelChoiceFromFlags() {
        XCTAssertEqual(BLASRuntime.preferredCore(flags: ["avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd", "avx2", "fma"]), "SkylakeX")
        XCTAssertEqual(BLASRuntime.preferredCore(flags: ["avx2", "fma", "avx"]), "Haswell")
        XCTAssertEqual(BLASRuntime.preferredCore(flags: ["avx512f", "avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASRuntime.preferredCore(flags: ["sse2"]))
        XCTAssertEqual(BLASRuntime.desiredCore(environment: ["INFINIGEN_BLAS_CORE": "Prescott"]), "Prescott")
        XCTAssertEqual(BLASRuntime.desiredCore(environment: ["INFINIGEN_BLAS_CORE": "inherit", "OPENBLAS_CORETYPE": "Zen"]), "Zen")
    }

    /// Whatever kernel this test process loaded computes sgemm/sgemv like a plain loop.
    func testLoadedKernelAgreesWithPlainLoops() {
        let r = BLASSelfTest.run()
        XCTAssertTrue(r.passed, "kernel \(BLASRuntime.coreName): sgemm \(r.sgemmError), sgemv \(r.sgemvError)")
    }

    /// The executable selects the kernel the CPU flags call for (re-executing itself with
    /// OPENBLAS_CORETYPE set, whatever the caller's environment said) and that kernel's
    /// sgemm/sgemv agree with plain loops.
    func testExecutableSelectsKernelAndItComputesCorrectly() throws {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = "Prescott"          // the slow default the program must override
        env.removeValue(forKey: "INFINIGEN_BLAS_CORE")
        let (status, out) = try Infinigen.run(["selftest-blas"], environment: env)
        XCTAssertEqual(status, 0, out)
        if let want = BLASRuntime.preferredCore() {
            XCTAssertTrue(out.contains("kernel \(want) "), "expected kernel \(want): \(out)")
        }
    }

    /// This process runs the kernel the program would select here: numbers in the tests
    /// then mean what they mean in the program (`make test` sets OPENBLAS_CORETYPE from
    /// `infinigen blas-core`; a bare `swift test` on a CPU OpenBLAS does not recognise
    /// would silently run Prescott).
    func testTestProcessRunsTheProgramsKernel() {
        if let problem = KernelCheck.problem() { XCTFail(problem) }
    }

    func testKernelCheckComparesWithTheProgramsChoice() {
        XCTAssertNil(KernelCheck.problem(environment: ["INFINIGEN_BLAS_CORE": "haswell"], loaded: "Haswell"))
        XCTAssertNil(KernelCheck.problem(environment: ["INFINIGEN_BLAS_CORE": "inherit"], loaded: "Prescott"),
                     "inherit with nothing set leaves the choice to OpenBLAS")
        let problem = KernelCheck.problem(environment: ["INFINIGEN_BLAS_CORE": "SkylakeX"], loaded: "Prescott")
        XCTAssertTrue(problem?.contains("make test") == true && problem?.contains("OPENBLAS_CORETYPE=SkylakeX") == true,
                      problem ?? "no problem reported")
    }

    /// `infinigen blas-core` prints the program's choice: the CPU's, or the override.
    func testBlasCoreCommandPrintsTheProgramsChoice() throws {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "INFINIGEN_BLAS_CORE")
        env["OPENBLAS_CORETYPE"] = "Prescott"
        let auto = try Infinigen.run(["blas-core"], environment: env)
        XCTAssertEqual(auto.status, 0, auto.output)
        XCTAssertEqual(auto.output, (BLASRuntime.preferredCore() ?? "") + "\n")
        env["INFINIGEN_BLAS_CORE"] = "Prescott"
        env.removeValue(forKey: "OPENBLAS_CORETYPE")
        let forced = try Infinigen.run(["blas-core"], environment: env)
        XCTAssertEqual(forced.status, 0, forced.output)
        XCTAssertEqual(forced.output, "Prescott\n")
    }
}
