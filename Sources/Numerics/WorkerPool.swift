import Foundation
import Synchronization

/// A fixed set of worker threads for the engine's parallel loops.
///
/// Decode issues a couple of hundred short parallel matrix-vector products per token;
/// waking Dispatch's threads for each costs tens of microseconds. These workers spin
/// briefly on an atomic generation counter before sleeping, so back-to-back jobs start
/// in well under a microsecond.
final class WorkerPool: @unchecked Sendable {
    let size: Int                      // threads including the caller
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    private var job: ((Int) -> Void)?
    private var tasks = 0
    private let next = Atomic<Int>(0)
    /// Spin iterations before a worker sleeps (~0.1-0.2 ms): longer than the serial work
    /// between two parallel loops of a decode step.
    private let spinLimit = 150_000
    /// Set before OpenBLAS runs its own threads: spinning workers would steal its cores.
    private let parked = Atomic<Bool>(false)

    /// Sends spinning workers to sleep now (they wake on the next `run`).
    func park() { parked.store(true, ordering: .relaxed) }

    init(threads: Int) {
        size = max(1, threads)
        for w in 1..<size {
            let t = Thread { [unowned self] in self.workerLoop(w) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Runs `body(i)` for i in 0..<n on the pool (the caller takes part); returns when all are done.
    func run(_ n: Int, _ body: @escaping (Int) -> Void) {
        job = body
        tasks = n
        parked.store(false, ordering: .relaxed)
        next.store(0, ordering: .relaxed)
        remaining.store(size - 1, ordering: .relaxed)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            condition.lock(); condition.broadcast(); condition.unlock()
        }
        drain(body)
        while remaining.load(ordering: .acquiring) > 0 { spinPause() }
        job = nil
    }

    private func drain(_ body: (Int) -> Void) {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            if i >= tasks { return }
            body(i)
        }
    }

    private func workerLoop(_ index: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinLimit && !parked.load(ordering: .relaxed) { spinPause(); continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { condition.wait() }
                sleepers.subtract(1, ordering: .relaxed)
                condition.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if let body = job { drain(body) }
            remaining.subtract(1, ordering: .releasing)
        }
    }

    /// A plain loop iteration (`pause` has no Swift spelling); kept as a named hook.
    @inline(__always) private func spinPause() {}
}
