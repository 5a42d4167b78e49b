import Foundation
import Model

/// Process-wide memo of skewing calibrations, so that every InfiniGen method built for
/// the same model and calibration text (parameter sweeps, several sequences) shares one.
/// Keyed by the model object and a hash of the token ids; the entry holds the model
/// weakly, so a new model that reuses a freed model's address is not mistaken for it.
public enum SkewingCache {
    private final class Entry {
        weak var model: LlamaModel?
        let tokens: [Int]
        let calibration: SkewingCalibration
        init(model: LlamaModel, tokens: [Int], calibration: SkewingCalibration) {
            self.model = model
            self.tokens = tokens
            self.calibration = calibration
        }
    }

    private struct Key: Hashable {
        let model: ObjectIdentifier
        let tokens: UInt64
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [Key: Entry] = [:]

    /// The calibration of `model` on `tokens`, computed on first use. Concurrent callers
    /// wait for one computation rather than repeating it.
    public static func calibration(model: LlamaModel, tokens: [Int]) throws -> SkewingCalibration {
        lock.lock()
        defer { lock.unlock() }
        entries = entries.filter { $0.value.model != nil }
        let key = Key(model: ObjectIdentifier(model), tokens: hash(tokens))
        if let e = entries[key], e.model === model, e.tokens == tokens { return e.calibration }
        let calibration = try SkewingCalibration.compute(model: model, tokens: tokens)
        entries[key] = Entry(model: model, tokens: tokens, calibration: calibration)
        return calibration
    }

    /// Forgets every calibration (tests; memory).
    public static func clear() {
        lock.lock()
        defer { lock.unlock() }
        entries.removeAll()
    }

    /// FNV-1a over the token ids and their count.
    static func hash(_ tokens: [Int]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in tokens + [tokens.count] {
            var v = UInt64(bitPattern: Int64(t))
            for _ in 0..<8 {
                h = (h ^ (v & 0xff)) &* 0x0000_0100_0000_01b3
                v >>= 8
            }
        }
        return h
    }
}
