import Foundation
import TailorData
import TailorEngine
import TailorPlan
import TailorRuntime
import TailorSpec

/// A prompt template as a `prompt.template` node stores it (`prompt.json`): the template,
/// its wrapping, chain of thought, and the few-shot pool with how examples are chosen.
struct Prompt {
    var template: String
    var system: String?
    var style: String
    var chainOfThought: String?
    var k: Int
    var select: String
    var seed: UInt64
    var pool: [[String: Any]]

    init(_ p: PromptParameters, pool: [[String: Any]]) {
        (template, system, style, chainOfThought) = (p.template, p.system, p.style, p.chainOfThought)
        (k, select, seed) = (p.k, p.select, UInt64(truncatingIfNeeded: p.seed))
        self.pool = pool
    }

    init(json: [String: Any]) {
        template = json["template"] as? String ?? "{prompt}"
        system = json["system"] as? String
        style = json["style"] as? String ?? "plain"
        chainOfThought = json["chain_of_thought"] as? String
        k = json["k"] as? Int ?? 0
        select = json["select"] as? String ?? "random"
        seed = UInt64(json["seed"] as? Int ?? 0)
        pool = json["pool"] as? [[String: Any]] ?? []
    }

    var json: [String: Any] {
        var j: [String: Any] = ["template": template, "style": style, "k": k, "select": select, "seed": Int(seed), "pool": pool as [Any]]
        if let system { j["system"] = system }
        if let chainOfThought { j["chain_of_thought"] = chainOfThought }
        return j
    }

    /// The prompt's text, non-text fields written as compact JSON with sorted keys.
    var text: PromptText {
        PromptText(template: template, system: system, style: style, chainOfThought: chainOfThought) { value in
            var out = ""
            JSONText.compact(value, into: &out)
            return out
        }
    }

    /// The prompt for record `index`, with its few-shot examples.
    func render(_ record: [String: Any], index: Int) -> String { text.render(record, shots: shots(for: record, index: index)) }

    /// What the user says for record `index`, unwrapped.
    func userText(_ record: [String: Any], index: Int) -> String { text.userText(record, shots: shots(for: record, index: index)) }

    /// A record as the chat a ChatML prompt stands for: the system message, the user's
    /// text, and the answer as the assistant's turn (so training learns only the answer).
    func messages(_ record: [String: Any], index: Int, answer: String) -> [[String: String]] {
        (system.map { [["role": "system", "content": $0]] } ?? [])
            + [["role": "user", "content": userText(record, index: index)], ["role": "assistant", "content": answer]]
    }

    /// `k` examples from the pool: seeded per record (`random`), or the most similar by shared
    /// words with the record's prompt (`similar`, ties to the earlier example); never the
    /// record itself.
    func shots(for record: [String: Any], index: Int) -> [[String: Any]] {
        let query = RecordText.parts(record)?.context ?? ""
        let candidates = pool.enumerated().filter { NSDictionary(dictionary: $0.element).isEqual(to: record) == false }
        guard k > 0, !candidates.isEmpty else { return [] }
        if select == "similar" {
            let words = Prompt.words(query)
            let scored = candidates.map { (i, example) -> (Int, Double) in
                let other = Prompt.words(RecordText.parts(example)?.context ?? "")
                let union = words.union(other).count
                return (i, union == 0 ? 0 : Double(words.intersection(other).count) / Double(union))
            }
            return scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(k).map { pool[$0.0] }
        }
        let order = Philox.permutation(candidates.count, seed: seed, stream: 0x7368_6f74_0000 + UInt64(index))
        return order.prefix(k).map { candidates[$0].element }
    }

    /// Words and the characters of numbers (so "12+34" resembles "12+35").
    static func words(_ s: String) -> Set<String> {
        Set(s.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init) + s.filter(\.isNumber).map { String($0) })
    }
}

/// prompt.template and data.template.
enum PromptRunners {
    static func template(_ ctx: NodeContext) throws {
        let pool = try ctx.inputs(.source).first.map { try ctx.dataset($0).records } ?? []
        let prompt = Prompt(try ctx.parameters(PromptParameters.self), pool: pool)
        try JSONText.render(prompt.json).write(toFile: ctx.out("prompt.json"), atomically: false, encoding: .utf8)
    }

    static func load(_ artifact: Artifact) throws -> Prompt {
        guard let data = FileManager.default.contents(atPath: artifact.path("prompt.json")),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { throw ExecutionError.unreadablePrompt(artifact.key) }
        return Prompt(json: json)
    }

    /// Every record through the prompt: instruction records of the rendered prompt and the
    /// answer; preference pairs stay pairs, the prompt rendered and both answers kept.
    static func apply(_ ctx: NodeContext) throws {
        let prompt = try load(try ctx.input(.prompt).artifact)
        let data = try ctx.dataset(try ctx.input(.source))
        // A ChatML prompt also keeps the chat itself: tokenizers with ChatML's tokens then
        // encode the turns as special tokens and mask everything but the answer. A pair's chat
        // is TRL's conversational layout: the prompt's turns, each answer an assistant turn.
        let records: [[String: Any]] = data.records.enumerated().map { i, r in
            if let chosen = RecordText.parts(r)?.answer, let rejected = RecordText.rejectedParts(r)?.answer {
                guard prompt.style == "chatml" else { return ["prompt": prompt.render(r, index: i), "chosen": chosen, "rejected": rejected] }
                let turns = Array(prompt.messages(r, index: i, answer: "").dropLast())
                return ["prompt": turns, "chosen": [["role": "assistant", "content": chosen]], "rejected": [["role": "assistant", "content": rejected]]]
            }
            let answer = RecordText.parts(r)?.answer ?? ""
            var record: [String: Any] = ["prompt": prompt.render(r, index: i), "response": answer]
            if prompt.style == "chatml" { record["messages"] = prompt.messages(r, index: i, answer: answer) }
            return record
        }
        try Dataset(records: records).write(ctx.out("data.jsonl"))
    }
}

extension PromptRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.promptTemplate: template, .dataTemplate: apply]
}
