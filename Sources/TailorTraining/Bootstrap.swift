import TailorRuntime

/// Percentile bootstrap confidence intervals of a mean (Efron & Tibshirani 1993): the mean of
/// each of `resamples` samples drawn with replacement, and the 2.5th and 97.5th percentiles of
/// those means, interpolated linearly between ranks as numpy's `percentile` does. Seeded, so a
/// report's intervals are the same bits on every run; two scores are called different only when
/// their intervals do not overlap.
public enum Bootstrap {
    public static let resamples = 1000

    /// The 95% interval of the mean of `values` (nil for no values), from resamples drawn by a
    /// Philox stream of `seed`.
    public static func interval95(_ values: [Double], seed: UInt64) -> (low: Double, high: Double)? {
        guard !values.isEmpty else { return nil }
        let n = values.count
        let rng = Philox(seed: seed, stream: 0x626f_6f74)  // "boot"
        // Each resample's mean straight from its draws: no table of resampled indices is kept.
        let means = (0..<resamples).map { b in
            rng.uniform(count: n, start: UInt64(b) * UInt64(n)).reduce(0.0) { $0 + values[Swift.min(n - 1, Int($1 * Float(n)))] } / Double(n)
        }
        return interval95(means: means)
    }

    /// The 95% interval from given resamples (each a list of indices into `values`).
    public static func interval95(_ values: [Double], resampled: [[Int]]) -> (low: Double, high: Double) {
        interval95(means: resampled.map { sample in sample.reduce(0.0) { $0 + values[$1] } / Double(sample.count) })
    }

    /// The 2.5th and 97.5th percentiles of the resamples' means.
    static func interval95(means: [Double]) -> (low: Double, high: Double) {
        let sorted = means.sorted()
        return (percentile(sorted, 2.5), percentile(sorted, 97.5))
    }

    /// The `p`th percentile of sorted values, linear between the ranks around it (numpy's default).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let position = p / 100 * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = Swift.min(sorted.count - 1, below + 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }
}
