import TailorRuntime

/// Experience replay for continual learning: a stage trains on its task's examples plus some
/// drawn from the earlier tasks' examples, a share of the whole (so that, in expectation,
/// `fraction` of every batch is replayed) or a fixed count; the trainer's sampler shuffles the
/// two together.
public enum Replay {
    /// How many earlier examples make `fraction` of a stage with `task` examples of its own:
    /// ⌊n · fraction / (1 − fraction)⌉.
    public static func count(task: Int, fraction: Double) -> Int {
        guard fraction > 0, fraction < 1 else { return 0 }
        return Int((Double(task) * fraction / (1 - fraction)).rounded())
    }

    /// The task's examples, then `count` of the earlier tasks' examples (pooled in training
    /// order and drawn by a seeded permutation, cycling if the pool is smaller): the same seed
    /// always draws the same examples.
    public static func mix(_ task: TokenArrays, earlier: [TokenArrays], count: Int, seed: UInt64) -> (TokenArrays, replayed: Int) {
        let pool = earlier.flatMap { e in (0..<e.count).map { (e, $0) } }
        guard !pool.isEmpty, count > 0 else { return (task, 0) }
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
