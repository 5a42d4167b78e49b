import Dispatch

/// Wall-clock timing of a block: the best of `repetitions` runs, the usual
/// way to read a bandwidth off a noisy, shared machine.
enum Stopwatch {
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func best(of repetitions: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) { best = min(best, seconds(body)) }
        return max(best, 1e-9)
    }
}

/// Raw memory shared with worker threads; the caller keeps it alive and
/// gives each worker a disjoint range.
struct SharedBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    static func allocate(_ count: Int) -> SharedBuffer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        // Touch every page so timing does not include first-touch faults.
        p.initializeMemory(as: UInt8.self, repeating: 1, count: count)
        return SharedBuffer(pointer: p, count: count)
    }

    func free() { pointer.deallocate() }
}
