import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime

/// data.sample and data.label: a model's own answers, and preference pairs made from them by
/// a rule, the on-policy data that DPO and reward models learn best from.
enum SampleRunners {
    /// `n` answers to each prompt, asked as an eval asks it (through the prompt, or the
    /// model's chat template), in batches of 16 rows with one seed per batch: the same spec
    /// and seed give the same answers whatever the thread count.
    static func sample(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(DataSampleParameters.self)
        let (modelInput, source) = (try ctx.input(.model), try ctx.input(.source))
        let (model, tokenizer) = try ModelRunners.loadForEvaluation(modelInput.artifact)
        let data = try ctx.dataset(source)
        let prompt = try PromptRunners.load(ctx)
        let examples = try EvalRunners.examples(data.records, for: modelInput.artifact, model, tokenizer, prompt: prompt,
                                                source: source.input.display)
        let asked = examples.flatMap { Array(repeating: $0, count: p.n) }  // each prompt's answers together
        let answers = try Tensor.noGrad {
            try EvalRunners.generations(asked, model, tokenizer, ctx, "sampling") { room, batch in
                SamplingOptions(maxTokens: Swift.min(p.maxTokens, room), temperature: Float(p.temperature), topP: Float(p.topP),
                                seed: UInt64(truncatingIfNeeded: p.seed) &+ 0x9e37_79b9 &* UInt64(batch + 1))
            }
        }
        let records: [[String: Any]] = zip(asked, answers).enumerated().map { i, pair in
            ["prompt": pair.0.question, "response": pair.1.text, "reference": pair.0.text, "sample": i % p.n, "finish": pair.1.finish.rawValue]
        }
        try Dataset(records: records).write(ctx.out("data.jsonl"))
    }

    /// One pair per prompt: its first answer that passes the rule chosen, its first that fails
    /// rejected. Prompts whose answers all pass or all fail give none, and empty answers take
    /// no side; `label.json` counts both, and the share of answers that passed (the sampled
    /// model's own score under the rule).
    static func label(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(DataLabelParameters.self)
        let source = try ctx.input(.source)
        let data = try ctx.dataset(source)
        let regex = try p.pattern.map { pattern in
            do { return try NSRegularExpression(pattern: pattern) } catch { throw ExecutionError.badPattern(pattern) }
        }
        func passes(_ answer: String, _ reference: String) -> Bool {
            if let regex { return regex.firstMatch(in: answer, range: NSRange(answer.startIndex..., in: answer)) != nil }
            return AnswerCheck.passes(p.rule ?? "answer_check", answer, reference)
        }
        // The answers to one prompt are consecutive, numbered from 0.
        var groups: [[(answer: String, reference: String)]] = [], prompts: [String] = []
        for (i, r) in data.records.enumerated() {
            guard let prompt = r["prompt"] as? String, let answer = r["response"] as? String, let reference = r["reference"] as? String,
                  let sample = r["sample"] as? Int
            else { throw ExecutionError.notSampled(source.input.display, record: i + 1) }
            if sample == 0 || prompts.last != prompt {
                groups.append([])
                prompts.append(prompt)
            }
            groups[groups.count - 1].append((answer, reference))
        }
        var pairs: [[String: Any]] = []
        var allPassed = 0, allFailed = 0, empty = 0, passed = 0, answered = 0
        for (prompt, group) in zip(prompts, groups) {
            var chosen: String?, rejected: String?
            for (answer, reference) in group {
                guard !answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    empty += 1
                    continue
                }
                answered += 1
                if passes(answer, reference) {
                    passed += 1
                    chosen = chosen ?? answer
                } else {
                    rejected = rejected ?? answer
                }
            }
            switch (chosen, rejected) {
            case let (c?, r?): pairs.append(["prompt": prompt, "chosen": c, "rejected": r])
            case (_?, nil): allPassed += 1
            case (nil, _): allFailed += 1
            }
        }
        let summary: [String: Any] = ["prompts": groups.count, "pairs": pairs.count, "all_passed": allPassed, "all_failed": allFailed,
                                      "empty_answers": empty, "answers": answered + empty,
                                      "passed": answered > 0 ? Double(passed) / Double(answered) : 0]
        if pairs.isEmpty { throw ExecutionError.noLabelledPairs(prompts: groups.count, allPassed: allPassed, allFailed: allFailed) }
        if allPassed + allFailed > 0 {
            ctx.warn("\(allPassed + allFailed) of \(groups.count) prompts gave no pair (\(allPassed): every answer passed, \(allFailed): every answer failed)")
        }
        if empty > 0 { ctx.warn("\(empty) empty answers took no side") }
        try Dataset(records: pairs).write(ctx.out("data.jsonl"))
        try JSONText.render(summary).write(toFile: ctx.out("label.json"), atomically: false, encoding: .utf8)
    }
}

extension SampleRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.dataSample: sample, .dataLabel: label]
}
