import Foundation

/// Data-parallel loops over a fixed partition. Work is cut into chunks whose bounds
/// depend only on the problem size, never on the thread count, and any reduction
/// combines per-chunk results in chunk order: results are bit-identical with 1 or N
/// threads. The thread count comes from `TAILOR_THREADS` (default: all cores).
public enum Parallel {
    /// Threads used by Tailor's own kernels (and by OpenBLAS outside parallel regions).
    public nonisolated(unsafe) static var threads: Int = {
        let env = ProcessInfo.processInfo.environment["TAILOR_THREADS"].flatMap(Int.init)
        return Swift.max(1, env ?? ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(range)` over `0..<count` in chunks of at least `grain` items.
    /// Below about 64K elements of work threading costs more than it saves.
    public static func forEach(_ count: Int, grain: Int, _ body: @escaping (Range<Int>) -> Void) {
        forEachChunk(count, grain: grain) { _, r in body(r) }
    }

    /// Like `forEach`, also passing the chunk's index (for per-chunk partial results).
    public static func forEachChunk(_ count: Int, grain: Int, _ body: @escaping (Int, Range<Int>) -> Void) {
        let chunks = chunkCount(count, grain: grain)
        if chunks <= 1 || threads == 1 {
            for c in 0..<chunks { body(c, range(c, chunks, count)) }
            return
        }
        WorkerPool.shared.run(chunks, helpers: Swift.min(threads, chunks) - 1) { c in body(c, range(c, chunks, count)) }
    }

    /// Number of chunks for `count` items: a function of the size only.
    public static func chunkCount(_ count: Int, grain: Int) -> Int {
        count <= 0 ? 0 : Swift.min(64, Swift.max(1, count / Swift.max(1, grain)))
    }

    public static func range(_ c: Int, _ chunks: Int, _ count: Int) -> Range<Int> {
        (c * count / chunks)..<((c + 1) * count / chunks)
    }
}

/// Lets a non-Sendable closure or pointer cross to worker threads; callers guarantee
/// that chunks touch disjoint memory.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
