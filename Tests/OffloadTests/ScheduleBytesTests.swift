import XCTest
@testable import Offload

/// What crosses the link, per scheme, on the fixture machine.
final class ScheduleBytesTests: XCTestCase {
    let model = Fixtures.model(layers: 4)
    let workload = Workload(batch: 2, promptLength: 64, generateLength: 3)

    func run(_ name: String, options: ScheduleOptions = ScheduleOptions(), hardware: HardwareProfile = Fixtures.hardware(),
             reads: TokenReadSource = .paperSetting(maxNumKV: 16), workload: Workload? = nil) throws -> SimulationResult {
        try Simulator.run(schedule: name, model: model, hardware: hardware, workload: workload ?? self.workload,
                          reads: reads, options: options)
    }

    /// Sum over decode steps and layers of the cached KV bytes.
    var fullCacheBytes: Double {
        (1...workload.decodeSteps).reduce(0) { sum, step in
            sum + Double(model.layers * workload.batch * workload.cachedTokens(atDecodeStep: step)) * model.kvBytesPerTokenPerLayer
        }
    }

    func testFlexGenMovesTheWholeCacheEveryStep() throws {
        XCTAssertEqual(try run("flexgen").bytesHostToDevice, fullCacheBytes, accuracy: 1e-3)
    }

    /// 4 bits plus an fp16 min and scale per group of 64: (0.5 + 4/64) / 2.
    func testINT4MovesAQuarterPlusScales() throws {
        let int4 = try run("flexgen-int4")
        XCTAssertEqual(int4.bytesHostToDevice, fullCacheBytes * 0.28125, accuracy: 1e-3)
        XCTAssertTrue(int4.notes.contains { $0.contains("0.2812 of the fp16 bytes") })
    }

    func testH2OMovesItsFixedCacheAndScores() throws {
        // heavy = int(0.1 x 64) = 6, cache = 12 tokens; fp32 score per token, row, head.
        let perLayer = Double(workload.batch * 12) * model.kvBytesPerTokenPerLayer + Double(12 * workload.batch * model.heads * 4)
        let r = try run("flexgen-h2o")
        XCTAssertEqual(r.bytesHostToDevice, Double(workload.decodeSteps * model.layers) * perLayer, accuracy: 1e-3)
        XCTAssertEqual(r.tokenReads, "scheme-defined: H2O cache of 12 tokens per layer")
    }

    func testInfiniGenMovesDenseLayersPlusSelectedRows() throws {
        let r = try run("infinigen-artifact", reads: .paperSetting(maxNumKV: 16))
        var expected = 0.0
        for step in 1...workload.decodeSteps {
            let n = workload.cachedTokens(atDecodeStep: step)
            expected += 2 * Double(workload.batch * n) * model.kvBytesPerTokenPerLayer
            expected += 2 * Double(workload.batch * 16) * model.kvBytesPerTokenPerLayer
        }
        XCTAssertEqual(r.bytesHostToDevice, expected, accuracy: 1e-3)
    }

    func testRecordedTraceDrivesTheReads() throws {
        // Mean of [3, 4, 6] truncates to 4 tokens in every sparse layer.
        let counts = Array(repeating: Array(repeating: [3, 4, 6], count: model.layers), count: workload.decodeSteps)
        let r = try run("infinigen-paper", reads: .recorded(counts: counts, source: "test trace"))
        XCTAssertEqual(r.tokenReads, "modeled from measured SmolLM2 trace (test trace)")
        var expected = 0.0
        for step in 1...workload.decodeSteps {
            let n = workload.cachedTokens(atDecodeStep: step)
            expected += Double(2 * workload.batch * n + 2 * workload.batch * 4) * model.kvBytesPerTokenPerLayer
        }
        XCTAssertEqual(r.bytesHostToDevice, expected, accuracy: 1e-3)
    }

    func testRecordedTraceMustMatchTheModel() {
        let counts = Array(repeating: Array(repeating: [1], count: 3), count: workload.decodeSteps)
        XCTAssertThrowsError(try run("infinigen-paper", reads: .recorded(counts: counts, source: "t"))) { error in
            XCTAssertEqual("\(error)", "invalid token reads: trace t step 1 has 3 layers, model small has 4")
        }
        XCTAssertThrowsError(try run("infinigen-paper", reads: .recorded(counts: [], source: "t"))) { error in
            XCTAssertTrue("\(error)".contains("has 0 decode steps, workload needs 2"))
        }
    }

    func testUVMWithRoomToSpareMovesNothingInDecode() throws {
        var options = ScheduleOptions()
        options.uvmArtifactPrefill = false
        let r = try run("uvm", options: options)
        XCTAssertEqual(r.bytesHostToDevice, 0)
        XCTAssertEqual(r.bytesDeviceToHost, Double(workload.generateLength * workload.batch * 8), "only token ids")
        var artifact = ScheduleOptions()
        artifact.uvmArtifactPrefill = true
        let p = Double(workload.promptLength)
        let mask = 4 * Double(workload.batch * model.heads) * p * p * Double(model.layers)
        XCTAssertEqual(try run("uvm", options: artifact).bytesHostToDevice, mask, accuracy: 1e-3)
    }

    /// Device barely too small: under Belady only the overflow faults each
    /// step; under LRU every touched byte does.
    func testUVMOverflowFaultsPerPolicy() throws {
        let w = Workload(batch: 2, promptLength: 256, generateLength: 3)
        let hw = Fixtures.hardware(deviceMemoryGiB: 0.2, reservedGiB: 0.1)
        var options = ScheduleOptions()
        options.uvmArtifactPrefill = false
        options.uvmPreallocTokens = nil
        let belady = try run("uvm", options: options, hardware: hw, workload: w)
        options.uvmEviction = .lru
        let lru = try run("uvm", options: options, hardware: hw, workload: w)

        let capacity = hw.deviceCapacityBytes
        let step = w.decodeSteps
        let n = w.cachedTokens(atDecodeStep: step)
        let perLayer = model.layerWeightBytes + Double(w.batch * (n + 1)) * model.kvBytesPerTokenPerLayer
        let touched = Double(model.layers) * perLayer + model.embeddingWeightBytes
        let workspace = Double(w.batch * model.heads * (n + 1)) * 10
        XCTAssertGreaterThan(touched + workspace, capacity, "fixture overflows")
        let cost = CostModel(hardware: hw)
        let faultTime = { (bytes: Double) in cost.uvmFaultIn(bytes: bytes * perLayer / touched) * Double(self.model.layers) }
        let lastStep = { (r: SimulationResult) in
            r.timeline.filter { $0.step == step && $0.name == "uvm-fault-in" }.reduce(0) { $0 + $1.end - $1.start }
        }
        XCTAssertEqual(lastStep(belady), faultTime(touched + workspace - capacity), accuracy: 1e-9)
        XCTAssertEqual(lastStep(lru), faultTime(touched), accuracy: 1e-9)
        XCTAssertGreaterThan(lru.totalSeconds, belady.totalSeconds)
    }

    func testBadInputsGiveOneLineErrors() {
        XCTAssertThrowsError(try run("flexgen-int8")) { error in
            XCTAssertTrue("\(error)".hasPrefix("unknown schedule 'flexgen-int8' (available: full-gpu, flexgen,"))
        }
        XCTAssertThrowsError(try run("flexgen", workload: Workload(batch: 0, promptLength: 1, generateLength: 1))) { error in
            XCTAssertEqual("\(error)", "invalid workload: batch must be at least 1 (got 0)")
        }
        var options = ScheduleOptions()
        options.partialWeightRatio = 0
        XCTAssertThrowsError(try run("infinigen-paper", options: options)) { error in
            XCTAssertEqual("\(error)", "invalid schedule options: partial weight ratio must be in (0, 1]")
        }
        XCTAssertThrowsError(try run("infinigen-paper", reads: .paperSetting(maxNumKV: 0))) { error in
            XCTAssertEqual("\(error)", "invalid token reads: max_num_kv must be at least 1 (got 0)")
        }
    }

    func testResultIsLabelledModeledAndCodable() throws {
        let r = try run("infinigen-paper")
        XCTAssertTrue(r.modeled)
        XCTAssertTrue(r.label.hasPrefix("modeled"))
        XCTAssertEqual(r.decodeStepSeconds.count, workload.decodeSteps)
        XCTAssertEqual(r.prefillSeconds + r.decodeSeconds, r.totalSeconds, accuracy: 1e-12)
        XCTAssertEqual(Set(r.timeline.map(\.step)), [0, 1, 2])
        XCTAssertTrue(r.timeline.allSatisfy { $0.end >= $0.start })
        let data = try JSONEncoder().encode(r)
        XCTAssertEqual(try JSONDecoder().decode(SimulationResult.self, from: data), r)
        let options = try JSONDecoder().decode(ScheduleOptions.self, from: Data(#"{"overlapIO": false}"#.utf8))
        XCTAssertEqual(options, .artifact, "missing option keys take their defaults")
    }
}
