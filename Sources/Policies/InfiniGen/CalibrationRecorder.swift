import Foundation
import Model
import Numerics

/// A policy that selects nothing and records, for every layer and position, the attention
/// input (after RMSNorm) and the post-rotary keys: what the offline skewing needs. Run it
/// with a `policyStart` past the end so every position reads the full cache.
final class CalibrationRecorder: KVPolicy {
    let name = "infinigen-calibration"
    let firstManagedLayer = 0
    let tokens: Int
    let hidden: Int
    let kvDim: Int
    /// Per layer: tokens × hidden.
    let inputs: [FloatBuffer]
    /// Per layer: tokens × kvDim.
    let keys: [FloatBuffer]

    /// Kept for `fork`.
    private let config: LlamaConfig

    init(config: LlamaConfig, tokens: Int) {
        self.config = config
        self.tokens = tokens
        hidden = config.hiddenSize
        kvDim = config.kvDim
        inputs = (0..<config.layers).map { [hidden] _ in FloatBuffer(count: tokens * hidden) }
        keys = (0..<config.layers).map { [kvDim] _ in FloatBuffer(count: tokens * kvDim) }
    }

    func observeInput(layer: Int, position: Int, input: UnsafePointer<Float>) {
        guard position < tokens else { return }
        inputs[layer].row(position, width: hidden).update(from: input, count: hidden)
    }

    func observeKeys(layer: Int, position: Int, keys k: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        guard position < tokens else { return }
        keys[layer].row(position, width: kvDim).update(from: k, count: kvDim)
    }

    func select(layer: Int, position: Int, queries: UnsafePointer<Float>, selection: Selection) {}
}

extension CalibrationRecorder {
    /// Copies what was recorded so far.
    func fork() -> KVPolicy {
        let copy = CalibrationRecorder(config: config, tokens: tokens)
        for l in inputs.indices {
            copy.inputs[l].pointer.update(from: inputs[l].pointer, count: tokens * hidden)
            copy.keys[l].pointer.update(from: keys[l].pointer, count: tokens * kvDim)
        }
        return copy
    }
}
