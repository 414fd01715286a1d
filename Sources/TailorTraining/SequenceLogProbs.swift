import TailorModels
import TailorRuntime

/// log π(answer | prompt) of tokenized sequences: the sum of the answer tokens'
/// log-probabilities (the tokens whose loss mask is 1, end of text included), as DPO and PPO
/// read a policy.
public enum SequenceLogProbs {
    /// (B) log-probabilities of `rows` of `tokens`, right-padded together, with gradients when
    /// the model's weights require them; and each row's answer-token count.
    public static func of(_ model: any CausalLM, _ tokens: TokenArrays, rows: [Int]) -> (logps: Tensor, counts: [Int]) {
        let (ids, targets, width) = LanguageModelObjective.batch(tokens, rows, trainOnInputs: false)
        let logits = model.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)  // (B, T, V)
        let picked = logits.reshaped([rows.count * width, model.vocab]).targetLogProbs(targets: targets, ignoreIndex: -1)  // (B·T)
        let counts = rows.indices.map { r in targets[(r * width)..<((r + 1) * width)].filter { $0 >= 0 }.count }
        return (picked.reshaped([rows.count, width]).sum(axes: [1]), counts)  // (B)
    }

    /// Every sequence's log-probability, without gradients, 16 at a time.
    public static func all(_ model: any CausalLM, _ tokens: TokenArrays) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(tokens.count)
        Tensor.noGrad {
            for start in stride(from: 0, to: tokens.count, by: 16) {
                out += of(model, tokens, rows: Array(start..<Swift.min(tokens.count, start + 16))).logps.scalars
            }
        }
        return out
    }

    /// Each sequence's answer-token count (the tokens its log-probability sums).
    public static func answerTokens(_ tokens: TokenArrays) -> [Int] {
        (0..<tokens.count).map { i in tokens.sequence(i).mask.dropFirst().filter { $0 == 1 }.count }
    }
}

/// Tokenized preference pairs with each side's loss mask (prompt 0, answer 1): what DPO trains
/// on and its reference scores.
public struct PreferenceTokens: Sendable {
    public var chosen: TokenArrays, rejected: TokenArrays

    /// Refuses pairs a model of `context` positions cannot read whole (with how many there are
    /// and the first), and pairs with no answer token to score.
    public init(chosen: TokenArrays, rejected: TokenArrays, context: Int, what: String) throws {
        guard chosen.count == rejected.count else {
            throw TrainingError("\(what) has \(chosen.count) chosen answers but \(rejected.count) rejected ones")
        }
        guard chosen.count > 0 else { throw TrainingError("\(what) has no preference pairs") }
        let longest = (0..<chosen.count).map { Swift.max(chosen.sequence($0).ids.count, rejected.sequence($0).ids.count) }
        let long = longest.indices.filter { longest[$0] > context + 1 }
        if let first = long.first {
            throw TrainingError("\(long.count) of the \(chosen.count) preference pairs in \(what) \(long.count == 1 ? "is" : "are") longer than "
                                + "the model's context of \(context) tokens (the first, pair \(first + 1), is \(longest[first]) tokens); "
                                + "shorten the prompts or filter long records out (`filter: { max_chars: … }`)")
        }
        let counts = zip(SequenceLogProbs.answerTokens(chosen), SequenceLogProbs.answerTokens(rejected))
        let empty = counts.enumerated().filter { $0.element.0 == 0 || $0.element.1 == 0 }.map(\.offset)
        if let first = empty.first {
            throw TrainingError("\(empty.count) preference pair\(empty.count == 1 ? "" : "s") in \(what) \(empty.count == 1 ? "has" : "have") "
                                + "an answer with no tokens to score (the first is pair \(first + 1))")
        }
        (self.chosen, self.rejected) = (chosen, rejected)
    }

    public var count: Int { chosen.count }
}
