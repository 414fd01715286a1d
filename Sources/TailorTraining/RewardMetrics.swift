/// How a reward model scores held-out preference pairs, over the whole set. Accuracy follows
/// TRL's `RewardTrainer` (`compute_accuracy`): the share of pairs whose chosen answer scores
/// above the rejected one, pairs scored equal left out (and counted in `ties`).
public struct RewardMetrics: Sendable, Equatable {
    /// Quantiles and moments of a set of scores.
    public struct Distribution: Sendable, Equatable {
        public var mean: Double, std: Double, min: Double, p25: Double, median: Double, p75: Double, max: Double

        /// `values` must not be empty. Quantiles interpolate linearly between order statistics
        /// (numpy's default); `std` is the population standard deviation (numpy's default).
        public init(_ values: [Float]) {
            let sorted = values.map(Double.init).sorted()
            func quantile(_ q: Double) -> Double {
                let position = q * Double(sorted.count - 1)
                let (low, high) = (Int(position.rounded(.down)), Int(position.rounded(.up)))
                return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
            }
            mean = sorted.reduce(0, +) / Double(sorted.count)
            let m = mean
            std = (sorted.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(sorted.count)).squareRoot()
            (min, p25, median, p75, max) = (sorted[0], quantile(0.25), quantile(0.5), quantile(0.75), sorted[sorted.count - 1])
        }

        public var json: [String: Double] {
            ["mean": mean, "std": std, "min": min, "p25": p25, "median": median, "p75": p75, "max": max]
        }
    }

    public var pairs: Int, ties: Int
    public var accuracy: Double
    /// Mean of r_chosen − r_rejected.
    public var meanMargin: Double
    public var chosen: Distribution, rejected: Distribution

    /// Metrics of the scores of each pair's chosen and rejected answer (same length, not empty).
    public init(chosen: [Float], rejected: [Float]) {
        precondition(!chosen.isEmpty && chosen.count == rejected.count, "one score per side of each pair")
        pairs = chosen.count
        ties = zip(chosen, rejected).filter { $0 == $1 }.count
        let right = zip(chosen, rejected).filter { $0 > $1 }.count
        accuracy = pairs > ties ? Double(right) / Double(pairs - ties) : 0
        meanMargin = zip(chosen, rejected).reduce(0.0) { $0 + Double($1.0 - $1.1) } / Double(pairs)
        (self.chosen, self.rejected) = (Distribution(chosen), Distribution(rejected))
    }

    public var json: [String: Any] {
        ["pairs": pairs, "ties": ties, "accuracy": accuracy, "mean_margin": meanMargin,
         "chosen_scores": chosen.json, "rejected_scores": rejected.json]
    }
}
