/// Two models' answers to the same prompts, compared one prompt at a time. The rate counts a
/// tie as half a win, as AlpacaEval and MT-Bench's pairwise mode do:
/// (wins + ties / 2) / comparisons, so two equal models score 0.5.
public struct WinRate: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case win, tie, loss

        /// The outcome of scoring a model's answer `model` against the baseline's `baseline`.
        public init<T: Comparable>(_ model: T, against baseline: T) {
            self = model > baseline ? .win : model < baseline ? .loss : .tie
        }
    }

    public var wins = 0, ties = 0, losses = 0

    public init<S: Sequence>(_ outcomes: S) where S.Element == Outcome {
        for o in outcomes {
            switch o {
            case .win: wins += 1
            case .tie: ties += 1
            case .loss: losses += 1
            }
        }
    }

    public var comparisons: Int { wins + ties + losses }
    /// 0 for no comparisons.
    public var rate: Double { comparisons > 0 ? (Double(wins) + Double(ties) / 2) / Double(comparisons) : 0 }

    /// How often a judge sides with a rule that knows the truth, over the comparisons the rule
    /// decides (one answer right, the other wrong); nil when it decides none. A judge that calls
    /// such a comparison a tie disagrees with the rule.
    public static func agreement(judge: [Outcome], rule: [Outcome]) -> (agreement: Double, decided: Int)? {
        precondition(judge.count == rule.count, "one judge and one rule outcome per comparison")
        let decided = zip(judge, rule).filter { $0.1 != .tie }
        guard !decided.isEmpty else { return nil }
        return (Double(decided.filter { $0.0 == $0.1 }.count) / Double(decided.count), decided.count)
    }

    public var json: [String: Any] {
        ["wins": wins, "ties": ties, "losses": losses, "rate": rate]
    }
}
