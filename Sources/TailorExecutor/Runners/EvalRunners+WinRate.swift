import Foundation
import TailorEngine
import TailorModels
import TailorTraining

extension EvalRunners {
    /// `win_rate`: the baseline answers the same records greedily (through its own tokenizer
    /// and template, with the same prompt and `max_tokens`), and the reward model scores each
    /// record's own context (a chat's turns before its answer) followed by either answer,
    /// tokenized as its training pairs were (cut to its context window, the end kept last). Identical answers are a tie
    /// without asking the judge. With reference answers (not preference pairs), the same
    /// comparisons are judged by `answer_check` (`win_rate_rule`), and `judge_agreement` is
    /// how often the reward model sides with that rule where it decides, which tests the
    /// reward model itself.
    static func judge(_ answers: [String], of model: Artifact, examples: [Example], records: [[String: Any]], maxTokens: Int, prompt: Prompt?,
                      source: String, _ ctx: NodeContext, into result: inout [String: Any]) throws {
        let baselineInput = try ctx.input(.baseline), rewardInput = try ctx.input(.reward)
        // The baseline against itself answers as it just did (greedy decoding is deterministic).
        let baselineAnswers = try baselineInput.artifact.digest == model.digest ? answers : {
            let (baseline, baselineTokenizer) = try ModelRunners.loadForEvaluation(baselineInput.artifact)
            let baselineExamples = try self.examples(records, for: baselineInput.artifact, baseline, baselineTokenizer, prompt: prompt, source: source)
            return try self.answers(baselineExamples, baseline, baselineTokenizer, maxTokens: maxTokens, ctx, "baseline generating")
        }()
        let (judge, judgeTokenizer) = try RewardRunners.load(rewardInput.artifact, node: rewardInput.input.node)
        guard let eos = judgeTokenizer.eos else { throw ExecutionError.noEndOfText }
        let context = judge.backbone.context
        var template = ArtifactTokenizer.LazyChatTemplate(rewardInput.artifact)
        // Each answer as the judge's training pairs read theirs: after a chat's turns (through
        // the judge's own template) or after the record's prompt.
        func scored(_ answers: [String]) throws -> [[Int32]] {
            try examples.indices.map { i in
                var pair: [String: Any] = ["prompt": examples[i].question, "chosen": answers[i]]
                if let turns = records[i]["messages"] as? [[String: Any]] {
                    pair = ["prompt": Array(turns.dropLast()), "chosen": [["role": "assistant", "content": answers[i]]]]
                }
                let ids = try TokenizerRunners.pairSide(pair, i, rejected: false, judgeTokenizer, eos: eos, template: &template, source: source).ids
                return ids.count <= context ? ids : Array(ids.prefix(context - 1)) + [eos]
            }
        }
        let (modelScores, baselineScores) = RewardObjective.scores(judge, .init(chosen: try scored(answers), rejected: try scored(baselineAnswers)))
        let trimmed = { (s: String) in s.trimmingCharacters(in: .whitespacesAndNewlines) }
        let judged = examples.indices.map { i in
            trimmed(answers[i]) == trimmed(baselineAnswers[i]) ? .tie : WinRate.Outcome(modelScores[i], against: baselineScores[i])
        }
        let judgeRate = WinRate(judged)
        result["win_rate"] = judgeRate.rate
        var comparison: [String: Any] = ["baseline": baselineInput.input.node, "judge": rewardInput.input.node, "reward": judgeRate.json]
        if !records.contains(where: { $0["rejected"] != nil }) {
            // 1 for a right answer, 0 for a wrong one.
            let right = { (answer: String, i: Int) in AnswerCheck.passes("answer_check", answer, examples[i].text) ? 1 : 0 }
            let rule = examples.indices.map { i in WinRate.Outcome(right(answers[i], i), against: right(baselineAnswers[i], i)) }
            let ruleRate = WinRate(rule)
            result["win_rate_rule"] = ruleRate.rate
            comparison["rule"] = ruleRate.json
            if let (agreement, decided) = WinRate.agreement(judge: judged, rule: rule) {
                result["judge_agreement"] = agreement
                comparison["rule_decided"] = decided
            }
        }
        comparison["samples"] = examples.indices.prefix(5).map { i -> [String: Any] in
            ["question": examples[i].question, "answer": trimmed(answers[i]), "baseline_answer": trimmed(baselineAnswers[i]),
             "score": Double(modelScores[i]), "baseline_score": Double(baselineScores[i])]
        }
        result["win_rate_detail"] = comparison
    }
}
