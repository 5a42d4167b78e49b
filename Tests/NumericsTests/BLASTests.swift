import Foundation
import XCTest
@testable import Numerics

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
        // The test bundle sits beside the products of the same build (`make test` builds both).
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
        let exe = bundle.deletingLastPathComponent().appendingPathComponent("infinigen")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            return XCTFail("infinigen is not built at \(exe.path): run `make test` (it builds the executable first)")
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = ["selftest-blas"]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = "Prescott"          // the slow default the program must override
        env.removeValue(forKey: "INFINIGEN_BLAS_CORE")
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, out)
        if let want = BLASRuntime.preferredCore() {
            XCTAssertTrue(out.contains("kernel \(want) "), "expected kernel \(want): \(out)")
        }
    }
}
