import Foundation
import Model
import Numerics

/// What all sequences of one InfiniGen method share: the settings, each (layer, KV
/// group)'s partial columns and the matching rows of its skewing matrix, and the layout of
/// a position's partial queries.
final class InfiniGenPlan: @unchecked Sendable {
    let settings: InfiniGenSettings
    let config: LlamaConfig
    /// Per layer: the dense query weight (qDim × hidden) the speculation multiplies.
    let queryWeights: [FloatBuffer]
    /// Per (layer, group), index `layer * kvHeads + group`: chosen columns, ascending.
    let columns: [[Int]]
    /// Per (layer, group): width × headDim; row i is column `columns[i]` of A (of the
    /// identity without skewing), so partial q'_i = q · row i.
    let projections: [FloatBuffer]
    /// Per layer: where group g's partial queries (groupSize heads × width) start in a
    /// position's row, and the row's width.
    let queryOffsets: [[Int]]
    let rowWidths: [Int]

    init(settings: InfiniGenSettings, model: LlamaModel, calibration: SkewingCalibration) {
        let c = model.config, d = c.headDim
        self.settings = settings
        self.config = c
        queryWeights = model.weights.layers.map { $0.wq.dense }
        let width = settings.partialWidth(headDim: d)
        var columns: [[Int]] = [], projections: [FloatBuffer] = []
        for l in 0..<c.layers {
            for g in 0..<c.kvHeads {
                let cal = calibration.group(layer: l, kvHead: g)
                let chosen = settings.skew
                    ? PartialColumns.choose(settings.columns, queryMagnitude: cal.queryMagnitude,
                                            keyMagnitude: cal.keyMagnitude, count: width)
                    : PartialColumns.choose(settings.columns, queryMagnitude: cal.rawQueryMagnitude,
                                            keyMagnitude: cal.rawKeyMagnitude, count: width)
                let p = FloatBuffer(count: chosen.count * d)
                for (i, col) in chosen.enumerated() {
                    if settings.skew {
                        cal.columnsOfA.withUnsafeBufferPointer { a in
                            (p.pointer + i * d).update(from: a.baseAddress! + col * d, count: d)
                        }
                    } else {
                        p[i * d + col] = 1
                    }
                }
                columns.append(chosen)
                projections.append(p)
            }
        }
        self.columns = columns
        self.projections = projections
        var offsets: [[Int]] = [], widths: [Int] = []
        for l in 0..<c.layers {
            var o: [Int] = [], at = 0
            for g in 0..<c.kvHeads {
                o.append(at)
                at += c.groupSize * columns[l * c.kvHeads + g].count
            }
            offsets.append(o)
            widths.append(at)
        }
        queryOffsets = offsets
        rowWidths = widths
    }

    @inline(__always) func width(layer: Int, kvHead: Int) -> Int { columns[layer * config.kvHeads + kvHead].count }
}
