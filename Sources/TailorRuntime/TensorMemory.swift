import Synchronization

/// Bytes of tensor storage alive now, and the most alive since the last reset: what a
/// training node reports as its peak memory (weights, gradients, optimizer state and
/// activations, without the allocator's slack or the program itself). Process RSS cannot
/// say this per node: it only grows over a run of several nodes.
public enum TensorMemory {
    private static let live = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)

    public static var liveBytes: Int { live.load(ordering: .relaxed) }
    public static var peakBytes: Int { peak.load(ordering: .relaxed) }

    /// Starts a new high-water mark at what is alive now.
    public static func resetPeak() { peak.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    static func allocated(_ bytes: Int) {
        let now = live.add(bytes, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: now, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    static func freed(_ bytes: Int) { live.subtract(bytes, ordering: .relaxed) }
}
