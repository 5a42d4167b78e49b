import XCTest
@testable import Offload

final class CostModelTests: XCTestCase {
    let cost = CostModel(hardware: Fixtures.hardware())

    func testRooflineTakesTheSlowerSide() {
        // 2e12 FLOPs at 1 TFLOP/s = 2 s; 1e9 bytes at 1000 GB/s = 1 ms.
        XCTAssertEqual(cost.seconds(DeviceWork(flops: 2e12, bytes: 1e9)), 2, accuracy: 1e-9)
        // 1e12 bytes at 1000 GB/s = 1 s beats 1e6 FLOPs.
        XCTAssertEqual(cost.seconds(DeviceWork(flops: 1e6, bytes: 1e12)), 1, accuracy: 1e-9)
    }

    func testEfficiencyAndLaunchOverhead() {
        var hw = Fixtures.hardware()
        hw.deviceMatmulEfficiency = 0.5
        hw.deviceKernelLaunchMicroseconds = 10
        let c = CostModel(hardware: hw)
        // 1e12 FLOPs at 0.5 TFLOP/s = 2 s, plus 3 launches of 10 us.
        XCTAssertEqual(c.seconds(DeviceWork(flops: 1e12, bytes: 0, kernels: 3)), 2 + 30e-6, accuracy: 1e-12)
    }

    func testTransfersPayLatencyPerCallAndBytesOverRate() {
        var hw = Fixtures.hardware()
        hw.transferLatencyMicroseconds = 10
        let c = CostModel(hardware: hw)
        XCTAssertEqual(c.hostToDevice(bytes: 10e9, pinned: true, transfers: 2), 1 + 20e-6, accuracy: 1e-12)
        XCTAssertEqual(c.hostToDevice(bytes: 10e9, pinned: false, transfers: 1), 2 + 10e-6, accuracy: 1e-12)
        XCTAssertEqual(c.deviceToHost(bytes: 0, pinned: true, transfers: 0), 0)
        // Without a measured demand rate a demand load is an ordinary transfer.
        XCTAssertEqual(c.hostToDevice(bytes: 10e9, pinned: true, transfers: 2, demand: true), 1 + 20e-6, accuracy: 1e-12)
    }

    /// A measured demand rate is the whole marginal cost: no hand-off latency on top.
    func testMeasuredDemandRateIsTheWholeCost() {
        var hw = Fixtures.hardware()
        hw.transferLatencyMicroseconds = 10
        hw.h2dDemandGBps = 40
        let c = CostModel(hardware: hw)
        XCTAssertEqual(c.hostToDevice(bytes: 10e9, pinned: true, transfers: 2, demand: true), 0.25, accuracy: 1e-12)
        XCTAssertEqual(c.hostToDevice(bytes: 10e9, pinned: true, transfers: 2), 1 + 20e-6, accuracy: 1e-12, "prefetches unchanged")
    }

    func testUVMFaultsArePagesRoundedUp() {
        var hw = Fixtures.hardware(uvmFaultMicroseconds: 10)
        hw.uvmMigrationGBps = 1
        let c = CostModel(hardware: hw)
        // 65 KiB = 2 pages of 64 KiB: 2 x 10 us + 66560 B / 1 GB/s.
        XCTAssertEqual(c.uvmFaultIn(bytes: 65 * 1024), 20e-6 + 66560e-9, accuracy: 1e-12)
        XCTAssertEqual(c.uvmEvict(bytes: 1e9), 1, accuracy: 1e-12)
        XCTAssertEqual(c.uvmFaultIn(bytes: 0), 0)
    }
}
