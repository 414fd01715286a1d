import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining

/// eval.lm (loss, perplexity, exact match by greedy generation) and eval.report.
enum EvalRunners {
    /// One scored record: the context and answer ids (answer + end of text, cut to the
    /// context window), the reference answer's text, and the record's own context text (what a
    /// judge reads, whatever prompt the model was asked through).
    struct Example {
        var context: [Int32], answer: [Int32], text: String
        var question: String
        /// The context as the model reads it (the prompt rendered, or the chat templated).
        var asked: String
    }

    static func languageModel(_ ctx: NodeContext) throws {
        let (modelInput, dataInput) = (try ctx.input(.model), try ctx.input(.evalData))
        let p = try ctx.parameters(EvalLMParameters.self)
        let (model, tokenizer) = try ModelRunners.loadForEvaluation(modelInput.artifact)
        let data = try ctx.evaluated(dataInput, p.scope)
        // With a prompt, each record's context is rendered through it (few-shot, chain of thought, style).
        let promptInput = ctx.inputs(.prompt).first
        var prompt = try PromptRunners.load(ctx)
        // A repeat draws its random examples from a stream of its own.
        if let r = p.repeat, let seed = prompt?.seed {
            let b = Philox(seed: seed, stream: 0x7265_7065_6174_0000 + UInt64(r)).block(0)
            prompt?.seed = UInt64(b.0) << 32 | UInt64(b.1)
        }
        let metrics = p.scope.metrics
        let examples = try self.examples(data.records, for: modelInput.artifact, model, tokenizer, prompt: prompt, source: dataInput.input.display)
        var result: [String: Any] = ["model": modelInput.input.node, "data": dataInput.input.display, "examples": examples.count]
        if let promptInput { result["prompt"] = promptInput.input.node }
        if let r = p.repeat { result["repeat"] = r }
        try Tensor.noGrad {
            if metrics.contains("loss") || metrics.contains("perplexity") {
                // Teacher-forced cross-entropy over answer tokens, in batches of 16.
                var total = 0.0, count = 0
                for start in stride(from: 0, to: examples.count, by: 16) {
                    let rows = examples[start..<Swift.min(examples.count, start + 16)]
                    let width = rows.map { $0.context.count + $0.answer.count - 1 }.max()!
                    var ids: [Int32] = [], targets: [Int32] = []
                    for e in rows {
                        let s = e.context + e.answer
                        for j in 0..<width {
                            ids.append(j < s.count - 1 ? s[j] : 0)
                            targets.append(j < s.count - 1 && j + 1 >= e.context.count ? s[j + 1] : -1)
                        }
                    }
                    let n = targets.filter { $0 >= 0 }.count
                    let loss = model.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)
                        .reshaped([rows.count * width, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1)
                    total += Double(loss.item) * Double(n)
                    count += n
                }
                let mean = count > 0 ? total / Double(count) : 0
                if metrics.contains("loss") { result["loss"] = mean }
                if metrics.contains("perplexity") { result["perplexity"] = Foundation.exp(mean) }
            }
            guard !Set(metrics).isDisjoint(with: ["exact_match", "contains", "answer_check", "final_number", "win_rate"]) else { return }
            guard let maxTokens = p.maxTokens else { throw ParameterError(path: "max_tokens") }
            let answers = try self.answers(examples, model, tokenizer, maxTokens: maxTokens, ctx, "generating")
            // Each asked answer metric's hit (1) or miss (0) per example.
            var hits = Dictionary(uniqueKeysWithValues: ["exact_match", "contains", "answer_check", "final_number"].filter(metrics.contains).map { ($0, [Double]()) })
            var samples: [[String: String]] = []
            for (row, answer) in zip(examples, answers) {
                for metric in hits.keys { hits[metric]!.append(AnswerCheck.passes(metric, answer, row.text) ? 1 : 0) }
                if samples.count < 5 {
                    samples.append(["asked": row.asked, "expected": row.text.trimmingCharacters(in: .whitespacesAndNewlines),
                                    "generated": answer.trimmingCharacters(in: .whitespacesAndNewlines)])
                }
            }
            for (metric, scores) in hits { Self.score(metric, scores, into: &result) }
            result["samples"] = samples  // the first answers, to see what a score means
            if metrics.contains("win_rate") {
                try judge(answers, of: modelInput.artifact, examples: examples, records: data.records, maxTokens: maxTokens, prompt: prompt,
                          source: dataInput.input.display, ctx, into: &result)
            }
        }
        try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: ctx.out("metrics.json")))
    }

    /// Each record as `model` is asked it. A chat (a chat record, or a record through a ChatML
    /// prompt) goes through the model's own template when it has one, as its training data did:
    /// the turns before the last answer with the generation prompt are the context, that answer
    /// what is scored.
    static func examples(_ records: [[String: Any]], for artifact: Artifact, _ model: any CausalLM, _ tokenizer: BPETokenizer,
                         prompt: Prompt?, source: String) throws -> [Example] {
        guard let eos = tokenizer.eos else { throw ExecutionError.noEndOfText }
        var template = ArtifactTokenizer.LazyChatTemplate(artifact)
        var examples: [Example] = []
        for (i, record) in records.enumerated() {
            guard let parts = RecordText.parts(record) else { throw ExecutionError.noTextFields(source, record: i + 1) }
            var (context, answer) = parts
            var chat = record["messages"] as? [[String: Any]]
            if let prompt {
                context = prompt.render(record, index: i)
                if prompt.style == "chatml" { chat = prompt.messages(record, index: i, answer: answer) }
            }
            if let turns = chat, let last = turns.last, last["role"] as? String == "assistant", let template = try template.get() {
                do {
                    context = try template.render(Rendering.messages(Array(turns.dropLast())), generationPrompt: true)
                } catch let error as JinjaError {
                    throw ExecutionError.chatRecord(source, record: i + 1, error)
                }
                answer = last["content"] as? String ?? ""
            }
            // ChatML prompts (a chat prompt here, or records templated by one) hold special tokens.
            let c = context.isEmpty ? [eos] : tokenizer.encode(context, specials: prompt?.style == "chatml" || record["messages"] != nil)
            examples.append(Example(context: c, answer: Array((tokenizer.encode(answer, specials: false) + [eos]).prefix(Swift.max(1, model.context - c.count))),
                                    text: answer, question: parts.context, asked: context))
        }
        return examples
    }

    /// Greedy answers to every example (as decoded: a judge reads them so), in batches of 16.
    static func answers(_ examples: [Example], _ model: any CausalLM, _ tokenizer: BPETokenizer, maxTokens: Int,
                        _ ctx: NodeContext, _ what: String) throws -> [String] {
        try generations(examples, model, tokenizer, ctx, what) { budget, _ in SamplingOptions(maxTokens: Swift.min(maxTokens, budget)) }
            .map(\.text)
    }

    /// Every example continued in batches of 16, each batch with the options `sampling` gives for
    /// the room its longest prompt leaves in the context and the batch's number.
    static func generations(_ examples: [Example], _ model: any CausalLM, _ tokenizer: BPETokenizer, _ ctx: NodeContext, _ what: String,
                            sampling: (_ room: Int, _ batch: Int) -> SamplingOptions) throws -> [Generation] {
        let generator = Generator(model: model, tokenizer: tokenizer)
        var out: [Generation] = []
        let began = Date()
        for (batch, start) in stride(from: 0, to: examples.count, by: 16).enumerated() {
            let rows = Array(examples[start..<Swift.min(examples.count, start + 16)])
            let options = sampling(model.context - rows.map(\.context.count).max()!, batch)
            guard options.maxTokens > 0 else { throw ExecutionError.promptFillsContext }
            out += generator.generate(ids: rows.map(\.context), options: options)
            let finished = Swift.min(examples.count, start + 16)
            ctx.progress("\(what): \(finished)/\(examples.count)", done: finished, total: examples.count, since: began)
        }
        return out
    }

    /// A metric's mean over the examples (0 for none) and its 95% bootstrap interval
    /// (`METRIC_ci95`: [low, high]), which the report prints beside it.
    static func score(_ metric: String, _ scores: [Double], into result: inout [String: Any]) {
        result[metric] = scores.isEmpty ? 0 : scores.reduce(0, +) / Double(scores.count)
        if let (low, high) = Bootstrap.interval95(scores, seed: 0) { result[metric + "_ci95"] = [low, high] }
    }

    /// A cell of the report: the value, and its 95% interval where the eval gave one.
    static func cell(_ row: [String: Any], _ metric: String) -> String {
        guard let value = row[metric] as? Double else { return "–" }
        guard let ci = row[metric + "_ci95"] as? [Double], ci.count == 2 else { return String(format: "%.4f", value) }
        return String(format: "%.4f [%.4f, %.4f]", value, ci[0], ci[1])
    }

    /// One table of every evaluated model's metrics (report.json and report.md), each score with
    /// its 95% bootstrap interval where the eval gave one.
    static func report(_ ctx: NodeContext) throws {
        let metrics = try ctx.parameters(EvalReportParameters.self).metrics
        var rows: [[String: Any]] = []
        for (_, artifact) in ctx.inputs(.result) {
            guard let data = FileManager.default.contents(atPath: artifact.path("metrics.json")),
                  let row = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            else { throw ExecutionError.noMetrics }
            rows.append(row)
        }
        // `win_rate` brings its rule-judged twin and the judge's agreement with the rule;
        // `forgetting`, the other summaries of the matrix.
        let columns = metrics.flatMap { metric -> [String] in
            switch metric {
            case "win_rate": [metric, "win_rate_rule", "judge_agreement"]
            case "forgetting": ["average_accuracy", "backward_transfer", "forward_transfer", metric]
            default: [metric]
            }
        }
        try JSONSerialization.data(withJSONObject: ["metrics": metrics, "columns": columns, "rows": rows], options: [.sortedKeys, .prettyPrinted])
            .write(to: URL(fileURLWithPath: ctx.out("report.json")))
        var md = "| model | examples | " + columns.joined(separator: " | ") + " |\n|---|---|" + columns.map { _ in "---|" }.joined() + "\n"
        for row in rows {
            let label = "\(row["model"] ?? "?")" + ((row["repeat"] as? Int).map { ", repeat \($0)" } ?? "")
            md += "| \(label) | \(row["examples"] ?? "–") | " + columns.map { cell(row, $0) }.joined(separator: " | ") + " |\n"
        }
        // Repeats of one model: their mean, and the range the repeats span.
        let repeated = Dictionary(grouping: rows.filter { $0["repeat"] != nil }, by: { "\($0["model"] ?? "?")" })
        for (model, group) in repeated.sorted(by: { $0.key < $1.key }) where group.count > 1 {
            md += "| \(model), mean of \(group.count) repeats | \(group[0]["examples"] ?? "–") | " + columns.map { column in
                let values = group.compactMap { $0[column] as? Double }
                guard values.count == group.count else { return "–" }
                return String(format: "%.4f (%.4f–%.4f)", values.reduce(0, +) / Double(values.count), values.min()!, values.max()!)
            }.joined(separator: " | ") + " |\n"
        }
        // A continual model's matrix follows the table.
        for (_, artifact) in ctx.inputs(.result) {
            guard let matrix = try? String(contentsOfFile: artifact.path("matrix.md"), encoding: .utf8),
                  let data = FileManager.default.contents(atPath: artifact.path("metrics.json")),
                  let row = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { continue }
            md += "\n\(row["model"] ?? "?"): score (exact match) on each task after each stage\n\n" + matrix
        }
        try md.write(toFile: ctx.out("report.md"), atomically: false, encoding: .utf8)
    }
}

extension EvalRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.evalLM: languageModel, .evalReport: report]
}
