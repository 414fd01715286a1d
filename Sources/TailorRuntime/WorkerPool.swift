import Dispatch
import Foundation
import Synchronization

/// Persistent worker threads for `Parallel`. A training step runs hundreds of short
/// parallel regions back to back; Dispatch parked its threads between them (about 6% of
/// a step went to the kernel scheduler). These workers spin, pinned to their own CPU,
/// for about a millisecond before sleeping, so the next region usually finds them awake;
/// spinning without `sched_yield` measured ~1.5% faster on config S than yielding every
/// 64 spins.
///
/// One job runs at a time. Chunks are claimed by compare-and-swap on a counter that holds
/// the job's generation in its high bits, so a worker still leaving an old job can never
/// claim a chunk of a newer one. A call made while a job runs (nested, or from another
/// thread) runs its chunks inline. Which thread runs a chunk never changes a result:
/// chunks are fixed by the problem size and write disjoint memory.
final class WorkerPool: @unchecked Sendable {
    /// (generation << 32) | index of the next unclaimed chunk.
    private let cursor = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    /// The current job, with the generation it belongs to.
    private var job: (generation: Int, count: Int, body: (Int) -> Void)?
    private var workers = 0

    static let shared = WorkerPool()

    /// Runs `body(chunk)` for every chunk in `0..<count`, on the caller and up to `helpers` workers.
    /// The closure is escaping because workers may still hold it briefly after the last chunk.
    func run(_ count: Int, helpers: Int, _ body: @escaping (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for c in 0..<count { body(c) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        ensureWorkers(helpers)
        let generation = (cursor.load(ordering: .sequentiallyConsistent) >> 32) + 1
        finished.store(0, ordering: .sequentiallyConsistent)
        lock.withLock { job = (generation, count, body) }
        cursor.store(generation << 32, ordering: .sequentiallyConsistent)
        let sleeping = sleepers.exchange(0, ordering: .sequentiallyConsistent)
        for _ in 0..<sleeping { wake.signal() }
        work(generation: generation, count: count, body: body)
        var spins = 0
        while finished.load(ordering: .acquiring) < count {
            spins += 1
            if spins & 4095 == 0 { sched_yield() }  // a descheduled worker may be holding the last chunk
        }
        lock.withLock { job = nil }
    }

    /// Claims and runs chunks of `generation` until none are left.
    private func work(generation: Int, count: Int, body: (Int) -> Void) {
        while true {
            let value = cursor.load(ordering: .acquiring)
            guard value >> 32 == generation, value & 0xFFFF_FFFF < count else { return }
            guard cursor.compareExchange(expected: value, desired: value + 1, ordering: .acquiringAndReleasing).exchanged
            else { continue }
            body(value & 0xFFFF_FFFF)
            finished.add(1, ordering: .releasing)
        }
    }

    private func ensureWorkers(_ n: Int) {
        lock.withLock {
            while workers < n {
                workers += 1
                let cpu = workers % Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
                let thread = Thread { [unowned self] in
                    WorkerPool.pin(to: cpu)
                    self.loop()
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    }

    /// Keeps worker k on CPU k (mod the CPU count), leaving CPU 0 to the caller's thread.
    private static func pin(to cpu: Int) {
        var mask = [UInt64](repeating: 0, count: 16)  // a 1024-bit cpu_set_t
        mask[cpu / 64] |= 1 << UInt64(cpu % 64)
        _ = mask.withUnsafeBytes { setAffinity(0, $0.count, $0.baseAddress!) }
    }

    /// A worker: wait for a new generation (spinning, then sleeping), then run its chunks.
    private func loop() {
        var seen = cursor.load(ordering: .acquiring) >> 32
        while true {
            var spins = 0
            while cursor.load(ordering: .acquiring) >> 32 == seen {
                spins += 1
                if spins < 200_000 { continue }
                sleepers.add(1, ordering: .sequentiallyConsistent)
                if cursor.load(ordering: .sequentiallyConsistent) >> 32 == seen { wake.wait() }
                spins = 0
            }
            seen = cursor.load(ordering: .acquiring) >> 32
            join(seen)
        }
    }

    /// Runs the chunks of job `generation` if it is still the current one. A function of its
    /// own so the job's closure (and every tensor it captures) is released when it returns.
    private func join(_ generation: Int) {
        guard let current = lock.withLock({ job }), current.generation == generation else { return }
        work(generation: generation, count: current.count, body: current.body)
    }
}

/// glibc's `sched_setaffinity` (not exported by Swift's Glibc module without _GNU_SOURCE).
@_silgen_name("sched_setaffinity")
private func setAffinity(_ pid: Int32, _ size: Int, _ mask: UnsafeRawPointer) -> Int32
