import TailorRuntime

/// Experience replay for continual learning: a stage trains on its task's examples plus a
/// share drawn from the earlier tasks' examples, so that, in expectation, `fraction` of every
/// batch is replayed (the trainer's sampler shuffles the two together).
public enum Replay {
    /// The task's examples, then ⌊n · fraction / (1 − fraction)⌉ of the earlier tasks' examples
    /// (pooled in training order and drawn by a seeded permutation, cycling if the pool is
    /// smaller): the same seed always draws the same examples.
    public static func mix(_ task: TokenArrays, earlier: [TokenArrays], fraction: Double, seed: UInt64) -> (TokenArrays, replayed: Int) {
        let pool = earlier.flatMap { e in (0..<e.count).map { (e, $0) } }
        guard !pool.isEmpty, fraction > 0, fraction < 1 else { return (task, 0) }
        let count = Int((Double(task.count) * fraction / (1 - fraction)).rounded())
        let order = Philox.permutation(pool.count, seed: seed, stream: 0x7265_706c_6179)  // "replay"
        var mixed = task
        for k in 0..<count {
            let (source, i) = pool[order[k % pool.count]]
            let s = source.sequence(i)
            mixed.append(Array(s.ids), mask: Array(s.mask))
        }
        return (mixed, count)
    }
}
