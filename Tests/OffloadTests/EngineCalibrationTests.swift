import XCTest
@testable import Offload

/// The pieces that let the simulator describe the workbench engine on this machine:
/// a separate weight-stream rate, per-kind storage sizes, a profile calibrated to
/// engine timings, and budgeted FlexGen fed a recorded trace.
final class EngineCalibrationTests: XCTestCase {
    func testWeightBytesStreamAtTheirOwnRateWhenTheProfileHasOne() {
        var hw = Fixtures.hardware()
        let work = DeviceWork(flops: 0, bytes: 3e9, weightBytes: 1e9)
        // No stream rate: all 3e9 bytes at 1000 GB/s.
        XCTAssertEqual(CostModel(hardware: hw).seconds(work), 3e-3, accuracy: 1e-12)
        hw.deviceWeightStreamGBps = 1
        hw.sources["device_weight_stream_gb_per_s"] = "test fixture"
        // 2e9 other bytes at 1000 GB/s, then 1e9 weight bytes at 1 GB/s.
        XCTAssertEqual(CostModel(hardware: hw).seconds(work), 2e-3 + 1, accuracy: 1e-12)
        XCTAssertNoThrow(try hw.validate(file: "t"), "the optional field needs a source like any other")
        hw.deviceWeightStreamGBps = -1
        XCTAssertThrowsError(try hw.validate(file: "t"))
    }

    func testStorageSizesApplyToTheirKindOnly() throws {
        var shape = Fixtures.model(layers: 2)
        let fp16 = shape
        shape.weightBytesPerElement = 0.625
        shape.headBytesPerElement = 1.0625
        shape.kvBytesPerElement = 4
        XCTAssertEqual(shape.layerWeightBytes, fp16.layerWeightBytes / 2 * 0.625, accuracy: 1e-6)
        XCTAssertEqual(shape.embeddingWeightBytes, fp16.embeddingWeightBytes / 2 * 1.0625, accuracy: 1e-6)
        XCTAssertEqual(shape.kvBytesPerTokenPerLayer, 2 * fp16.kvBytesPerTokenPerLayer)
        XCTAssertEqual(shape.mlpWork(rows: 1).weightBytes, Double(shape.mlpWeightElements) * 0.625)
        XCTAssertEqual(shape.attentionWork(batch: 1, queries: 1, keys: 3).weightBytes, 0)
        // Absent sizes keep bytes_per_element, and JSON without them still decodes.
        let data = try JSONEncoder().encode(fp16)
        XCTAssertEqual(try ModelShape.decode(data, file: "t").layerWeightBytes, fp16.layerWeightBytes)
        shape.kvBytesPerElement = 0
        XCTAssertThrowsError(try shape.validate(file: "t"))
    }

    func testCalibratedProfileReproducesTheEngineTimings() throws {
        var shape = Fixtures.model(layers: 2)
        shape.weightBytesPerElement = 0.625
        shape.kvBytesPerElement = 4
        // Compute = 10 ms + 5 us per cached token, exactly on the line.
        let points = [64, 512, 1024].map {
            EngineMeasurements.Point(context: $0, stepSeconds: 0, stallSeconds: 0,
                                     computeSeconds: 0.010 + 5e-6 * Double($0), engineCPUSeconds: 0.010 + 5e-6 * Double($0),
                                     copyBytesPerSecond: 8e9)
        }
        // On demand, 1024 tokens of one layer's K and V (8 KiB each) cost 1 ms more.
        let demand = EngineMeasurements.Point(context: 1024, stepSeconds: 0, stallSeconds: 0, computeSeconds: 0,
                                              engineCPUSeconds: points[2].engineCPUSeconds + 0.001, copyBytesPerSecond: 0)
        let e = EngineMeasurements(points: points, demand: demand, layers: 2, kvHeads: 8, headDim: 128, layerWeightBytes: 0,
                                   outputWeightBytes: 0, layerWeightFormat: "q4_1", outputWeightFormat: "q8_0")
        XCTAssertEqual(e.fit.fixedSeconds, 0.010, accuracy: 1e-12)
        XCTAssertEqual(e.fit.secondsPerToken, 5e-6, accuracy: 1e-15)
        let p = Fixtures.hardware().calibrated(to: e, shape: shape)
        XCTAssertTrue(p.engineCalibrated)
        XCTAssertNoThrow(try p.validate(file: "t"))
        XCTAssertEqual(p.h2dPinnedGBps, 8)
        XCTAssertEqual(e.demandBytesPerSecond!, 1024 * 8192 / 0.001, accuracy: 1)
        XCTAssertEqual(p.h2dDemandGBps! * 1e9, 1024 * 8192 / 0.001, accuracy: 1)
        // The paired measurement, when present, replaces the difference of separate runs.
        var paired = e
        paired.demandExtraSeconds = 0.002
        XCTAssertEqual(paired.demandBytesPerSecond!, 1024 * 8192 / 0.002, accuracy: 1)
        XCTAssertTrue(Fixtures.hardware().calibrated(to: paired, shape: shape).sources["h2d_demand_gb_per_s"]!.contains("adds 2.00 ms"))
        let weights = 2 * shape.layerWeightBytes + shape.embeddingWeightBytes
        XCTAssertEqual(p.deviceWeightStreamGBps! * 1e9, weights / 0.010, accuracy: 1)
        // The weight part of a decode step now takes the measured 10 ms, and each more
        // cached token 5 us (the fixture's arithmetic rate is far from binding).
        let cost = CostModel(hardware: p)
        func step(keys: Int) -> Double {
            (0..<2).reduce(0.0) { acc, _ in
                acc + cost.seconds(shape.projectionWork(rows: 1)) + cost.seconds(shape.mlpWork(rows: 1))
                    + cost.seconds(shape.attentionWork(batch: 1, queries: 1, keys: keys))
            } + cost.seconds(shape.lmHeadWork(rows: 1))
        }
        XCTAssertEqual(step(keys: 1001) - step(keys: 1), 1000 * 5e-6, accuracy: 1e-9)
        XCTAssertEqual(step(keys: 1), 0.010, accuracy: 0.0005, "weights dominate; activations add a little")
    }

    func testFlexGenH2OMovesTheRecordedRowsWhenGivenATrace() throws {
        let model = Fixtures.model(layers: 3)
        let workload = Workload(batch: 1, promptLength: 100, generateLength: 3)
        var options = ScheduleOptions()
        options.hostKVPinned = true
        let counts = [[[100, 100], [20, 22], [10, 10]], [[101, 101], [30, 30], [5, 7]]]
        let r = try Simulator.run(schedule: "flexgen-h2o", model: model, hardware: Fixtures.hardware(), workload: workload,
                                  reads: .recorded(counts: counts, source: "t"), options: options)
        let perToken = model.kvBytesPerTokenPerLayer + Double(model.heads) * 4   // K, V and an fp32 score
        // Means per layer, truncated: step 1: 100, 21, 10; step 2: 101, 30, 6.
        XCTAssertEqual(r.bytesHostToDevice, Double(100 + 21 + 10 + 101 + 30 + 6) * perToken, accuracy: 1e-6)
        XCTAssertTrue(r.tokenReads.contains("measured SmolLM2 trace"))
        // Without a trace the scheme's own cache size applies.
        let scheme = try Simulator.run(schedule: "flexgen-h2o", model: model, hardware: Fixtures.hardware(), workload: workload,
                                       reads: .paperSetting(maxNumKV: 64), options: options)
        XCTAssertEqual(scheme.bytesHostToDevice, 2 * 3 * 20 * perToken, accuracy: 1e-6)
    }
}
