import XCTest
@testable import Offload

/// Hand-derived step times on the round-number fixture machine. Pieces
/// (one load, one attention, one MLP) come from `CostModel`, whose own
/// arithmetic is tested separately; these tests check how a schedule
/// composes them: what overlaps, what serialises, what is exposed.
final class ScheduleArithmeticTests: XCTestCase {
    let model = Fixtures.model(layers: 4)
    let workload = Workload(batch: 2, promptLength: 64, generateLength: 3)

    var pinned: ScheduleOptions {
        var o = ScheduleOptions()
        o.hostKVPinned = true
        return o
    }

    func simulate(_ name: String, hardware: HardwareProfile = Fixtures.hardware(), options: ScheduleOptions,
                  reads: TokenReadSource = .paperSetting(maxNumKV: 16), model: ModelShape? = nil) throws -> SimulationResult {
        try Simulator.run(schedule: name, model: model ?? self.model, hardware: hardware, workload: workload,
                          reads: reads, options: options)
    }

    struct Pieces {
        let load, attention, mlp, store, tail: Double
    }

    /// The cost of one layer's pieces at decode step `step`.
    func pieces(_ hw: HardwareProfile, step: Int, storePinned: Bool = true) -> Pieces {
        let cost = CostModel(hardware: hw)
        let n = workload.cachedTokens(atDecodeStep: step)
        let kv = Double(workload.batch * n) * model.kvBytesPerTokenPerLayer
        let b = workload.batch
        return Pieces(
            load: cost.hostToDevice(bytes: kv, pinned: true, transfers: 2),
            attention: cost.seconds(model.projectionWork(rows: b) + model.attentionWork(batch: b, queries: 1, keys: n + 1)),
            mlp: cost.seconds(model.mlpWork(rows: b)),
            store: cost.deviceToHost(bytes: Double(b) * model.kvBytesPerTokenPerLayer, pinned: storePinned, transfers: 2),
            tail: cost.seconds(model.lmHeadWork(rows: b)) + cost.deviceToHost(bytes: Double(b * 8), pinned: false, transfers: 1)
                + cost.sync)
    }

    /// FlexGen overlapped: the first load is exposed (pipeline fill), then
    /// each later load hides behind the MLP before it: per layer
    /// max(mlp, load) + attention.
    func testFlexGenDecodeStepIsMaxOfComputeAndTransferPlusFill() throws {
        for link in [10.0, 10_000.0] { // transfer-bound, then compute-bound
            let hw = Fixtures.hardware(link: link)
            let r = try simulate("flexgen", hardware: hw, options: pinned)
            for step in 1...2 {
                let p = pieces(hw, step: step)
                XCTAssertLessThan(p.store, p.mlp, "store must hide behind the MLP for this formula")
                let layers = Double(model.layers)
                let expected = p.load + layers * p.attention + (layers - 1) * max(p.mlp, p.load) + p.mlp + p.tail
                XCTAssertEqual(r.decodeStepSeconds[step - 1], expected, accuracy: expected * 1e-9, "link \(link) step \(step)")
            }
            if link == 10 {
                XCTAssertGreaterThan(pieces(hw, step: 1).load, pieces(hw, step: 1).mlp, "fixture is transfer-bound")
            } else {
                XCTAssertLessThan(pieces(hw, step: 1).load, pieces(hw, step: 1).mlp, "fixture is compute-bound")
            }
        }
    }

    /// FlexGen serial (`--overlap false`): load, compute, store, compute,
    /// nothing overlaps.
    func testFlexGenSerialAddsEverything() throws {
        let hw = Fixtures.hardware()
        var options = pinned
        options.overlapIO = false
        let r = try simulate("flexgen", hardware: hw, options: options)
        let p = pieces(hw, step: 2)
        let expected = Double(model.layers) * (p.load + p.attention + p.store + p.mlp) + p.tail
        XCTAssertEqual(r.decodeStepSeconds[1], expected, accuracy: expected * 1e-6)
    }

    /// With a pageable home every load is first copied on the host into a
    /// pinned relay, and new-token stores go to pageable memory.
    func testFlexGenPageableHomeStagesEveryLoad() throws {
        let hw = Fixtures.hardware()
        var options = ScheduleOptions.artifact
        options.hostKVPinned = false
        let r = try simulate("flexgen", hardware: hw, options: options)
        let p = pieces(hw, step: 2, storePinned: false)
        let kv = Double(workload.batch * workload.cachedTokens(atDecodeStep: 2)) * model.kvBytesPerTokenPerLayer
        let staging = CostModel(hardware: hw).hostCopy(bytes: kv)
        let expected = Double(model.layers) * (staging + p.load + p.attention + p.store + p.mlp) + p.tail
        XCTAssertEqual(r.decodeStepSeconds[1], expected, accuracy: expected * 1e-6)
        XCTAssertGreaterThan(r.breakdown.cpuSeconds, 0)
    }

    /// InfiniGen reading k = 0 tokens: only layer 0 loads its cache; every
    /// other layer is compute (attention over the new token alone) plus the
    /// speculation for the next layer.
    func testInfiniGenWithNoTokensIsComputePlusSpeculation() throws {
        let hw = Fixtures.hardware()
        var options = pinned
        options.denseLeadingLayers = 0
        let r = try simulate("infinigen-paper", hardware: hw, options: options,
                             reads: .paperSetting(maxNumKV: 1, count: .fixed(0)))
        let cost = CostModel(hardware: hw)
        let b = workload.batch
        var run = ScheduleRun(model: model, hardware: hw, workload: workload, reads: .paperSetting(maxNumKV: 1), options: options)
        run.timeline = Timeline()
        for step in 1...2 {
            let n = workload.cachedTokens(atDecodeStep: step)
            let p = pieces(hw, step: step)
            let speculation = cost.seconds(InfiniGenWork.speculation(run, cached: n))
            // One roofline over attention and the in-place append of the partial key.
            let append = DeviceWork(bytes: Double(b * model.kvHeads * InfiniGenWork.partialDim(run)) * 2, kernels: 1)
            let sparseAttention = cost.seconds(model.projectionWork(rows: b) + model.attentionWork(batch: b, queries: 1, keys: 1) + append)
            let layers = Double(model.layers)
            // Layer 0 waits for its full load; speculation for layer 1 runs meanwhile.
            let expected = max(p.load, speculation) + p.attention + p.mlp
                + (layers - 1) * (sparseAttention + p.mlp) + (layers - 2) * speculation + p.tail
            XCTAssertEqual(r.decodeStepSeconds[step - 1], expected, accuracy: expected * 1e-6, "step \(step)")
        }
        XCTAssertEqual(r.tokenReads, "modeled from paper setting (max_num_kv 1, count fixed at 0)")
    }

    /// The artifact order with 3 layers (0, 1 dense; 2 speculated in 1):
    /// everything serial except the prefetch of layer 2, which overlaps only
    /// the MLP of layer 1.
    func testInfiniGenArtifactCopyOverlapsOnlyTheMLP() throws {
        let three = Fixtures.model(layers: 3)
        let hw = Fixtures.hardware(link: 1) // slow link: the prefetch outlasts the MLP
        let r = try Simulator.run(schedule: "infinigen-artifact", model: three, hardware: hw, workload: workload,
                                  reads: .paperSetting(maxNumKV: 8), options: pinned)
        let cost = CostModel(hardware: hw)
        let b = workload.batch, n = workload.cachedTokens(atDecodeStep: 2), k = 8
        let kv = { (tokens: Int) in Double(b * tokens) * three.kvBytesPerTokenPerLayer }
        var run = ScheduleRun(model: three, hardware: hw, workload: workload, reads: .paperSetting(maxNumKV: 8), options: pinned)
        run.timeline = Timeline()
        let full = cost.hostToDevice(bytes: kv(n), pinned: true, transfers: 2)
        let attentionWork = { (keys: Int) in three.projectionWork(rows: b) + three.attentionWork(batch: b, queries: 1, keys: keys) }
        let attention = { (keys: Int) in cost.seconds(attentionWork(keys)) }
        let mlp = cost.seconds(three.mlpWork(rows: b))
        let store = cost.deviceToHost(bytes: kv(1), pinned: true, transfers: 2)
        let spec = cost.seconds(InfiniGenWork.speculation(run, cached: n))
        // The sparse layer's attention and its partial-cache concatenation are one roofline.
        let sparseAttention = cost.seconds(attentionWork(k + 1) + InfiniGenWork.partialCacheCat(run, cached: n))
        let indices = cost.deviceToHost(bytes: Double(k * b * three.heads * 8), pinned: false, transfers: 1)
        let gather = cost.hostGather(bytes: kv(k))
        let prefetch = cost.hostToDevice(bytes: kv(k), pinned: true, transfers: 2)
        XCTAssertGreaterThan(prefetch, mlp)
        let tail = cost.seconds(three.lmHeadWork(rows: b)) + cost.deviceToHost(bytes: Double(b * 8), pinned: false, transfers: 1)
        let syncs = 8 * cost.sync // spec .item(), 3 after attention, 3 after MLP, 1 closing the step
        let expected = 2 * full + 2 * attention(n + 1) + spec + 3 * store + indices + gather + max(mlp, prefetch)
            + mlp + sparseAttention + mlp + tail + syncs
        XCTAssertEqual(r.decodeStepSeconds[1], expected, accuracy: expected * 1e-9)
    }

    /// Same bytes, better overlap: the figure 8 schedule is never slower.
    func testPaperScheduleMovesTheSameBytesNoSlower() throws {
        let hw = Fixtures.hardware(link: 1)
        let paper = try simulate("infinigen-paper", hardware: hw, options: pinned)
        let artifact = try simulate("infinigen-artifact", hardware: hw, options: pinned)
        XCTAssertEqual(paper.bytesHostToDevice, artifact.bytesHostToDevice, accuracy: 1)
        XCTAssertLessThan(paper.decodeSeconds, artifact.decodeSeconds)
    }

    func testFullGPUIsComputeOnly() throws {
        let hw = Fixtures.hardware()
        let r = try simulate("full-gpu", hardware: hw, options: pinned)
        let p = pieces(hw, step: 2)
        let expected = Double(model.layers) * (p.attention + p.mlp) + p.tail
        XCTAssertEqual(r.decodeStepSeconds[1], expected, accuracy: expected * 1e-9)
        XCTAssertEqual(r.bytesHostToDevice, 0)
        XCTAssertEqual(r.breakdown.hostToDeviceSeconds, 0)
    }
}
