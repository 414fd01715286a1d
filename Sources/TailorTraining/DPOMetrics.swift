/// What TRL's `DPOTrainer` logs, over a whole set of pairs rather than one batch (with small
/// batches a per-batch accuracy is only ever 0 or 1, trl#2371): the implicit rewards
/// β·(log π − log π_ref) of the chosen and the rejected answers, their margin, how often the
/// chosen one's is higher, and the policy's log-probabilities.
public struct DPOMetrics: Sendable, Equatable {
    public var pairs: Int
    /// Means over pairs: `rewards/chosen`, `rewards/rejected`, `rewards/margins`.
    public var rewardChosen: Double, rewardRejected: Double, rewardMargin: Double
    /// `rewards/accuracies`: the fraction of pairs whose chosen reward is strictly higher.
    public var accuracy: Double
    /// `logps/chosen`, `logps/rejected`: mean log-probabilities under the policy.
    public var logpChosen: Double, logpRejected: Double

    /// Log-probabilities per pair (as the loss reads them: averaged per token for IPO).
    public init(chosen: [Float], rejected: [Float], referenceChosen: [Float], referenceRejected: [Float], beta: Double) {
        precondition(chosen.count == rejected.count && chosen.count == referenceChosen.count && chosen.count == referenceRejected.count)
        pairs = chosen.count
        let n = Double(Swift.max(1, pairs))
        var (rc, rr, wins, lc, lr) = (0.0, 0.0, 0, 0.0, 0.0)
        for i in 0..<pairs {
            let c = beta * (Double(chosen[i]) - Double(referenceChosen[i]))
            let r = beta * (Double(rejected[i]) - Double(referenceRejected[i]))
            rc += c
            rr += r
            if c > r { wins += 1 }
            lc += Double(chosen[i])
            lr += Double(rejected[i])
        }
        (rewardChosen, rewardRejected, rewardMargin) = (rc / n, rr / n, (rc - rr) / n)
        accuracy = Double(wins) / n
        (logpChosen, logpRejected) = (lc / n, lr / n)
    }

    /// Under TRL's names (without its `eval_` prefix).
    public var values: [String: Double] {
        ["rewards/chosen": rewardChosen, "rewards/rejected": rewardRejected, "rewards/margins": rewardMargin,
         "rewards/accuracies": accuracy, "logps/chosen": logpChosen, "logps/rejected": logpRejected]
    }
}
