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
    /// Where `similar` puts the most similar example: `first` or `last`.
    var closest: String
    var seed: UInt64
    var pool: [[String: Any]]
    /// With an encoder (KATE): each pool example's embedding, and the encoder that embeds the
    /// queries; `similar` then ranks by cosine instead of shared words.
    var poolVectors: [[Float]]? = nil
    var encoder: Encoder? = nil
    /// Queries embedded so far: a record is rendered more than once (a ChatML prompt's text and
    /// its chat), and its examples are chosen each time.
    let embedded = QueryVectors()

    final class QueryVectors {
        var byText: [String: [Float]] = [:]
    }

    init(_ p: PromptParameters, pool: [[String: Any]]) {
        (template, system, style, chainOfThought) = (p.template, p.system, p.style, p.chainOfThought)
        (k, select, closest, seed) = (p.k, p.select, p.closest, UInt64(truncatingIfNeeded: p.seed))
        self.pool = pool
    }

    init(json: [String: Any]) {
        template = json["template"] as? String ?? "{prompt}"
        system = json["system"] as? String
        style = json["style"] as? String ?? "plain"
        chainOfThought = json["chain_of_thought"] as? String
        k = json["k"] as? Int ?? 0
        select = json["select"] as? String ?? "random"
        closest = json["closest"] as? String ?? "first"
        seed = UInt64(json["seed"] as? Int ?? 0)
        pool = json["pool"] as? [[String: Any]] ?? []
    }

    var json: [String: Any] {
        var j: [String: Any] = ["template": template, "style": style, "k": k, "select": select, "closest": closest, "seed": Int(seed), "pool": pool as [Any]]
        if let system { j["system"] = system }
        if let chainOfThought { j["chain_of_thought"] = chainOfThought }
        if poolVectors != nil { j["embedded"] = true }
        return j
    }

    /// The text an example or a query is compared by: its prompt part.
    static func query(_ record: [String: Any]) -> String { RecordText.parts(record)?.context ?? "" }

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

    /// `k` examples from the pool: seeded per record (`random`), or the most similar to the
    /// record's prompt (`similar`): by the cosine of the encoder's embeddings when the prompt
    /// has one (KATE), else by shared words (Jaccard); ties to the earlier example, the most
    /// similar first or (`closest: last`) next to the query. Never the record itself.
    func shots(for record: [String: Any], index: Int) -> [[String: Any]] {
        let candidates = pool.indices.filter { NSDictionary(dictionary: pool[$0]).isEqual(to: record) == false }
        guard k > 0, !candidates.isEmpty else { return [] }
        if select == "similar" {
            let similarity: [Double]
            if let poolVectors, let encoder {
                let text = Prompt.query(record)
                let q = embedded.byText[text] ?? encoder.embed([text])[0]
                embedded.byText[text] = q
                similarity = candidates.map { i in Double(zip(q, poolVectors[i]).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
            } else {
                let words = Prompt.words(Prompt.query(record))
                similarity = candidates.map { i in
                    let other = Prompt.words(Prompt.query(pool[i]))
                    let union = words.union(other).count
                    return union == 0 ? 0 : Double(words.intersection(other).count) / Double(union)
                }
            }
            let best = candidates.indices.sorted { similarity[$0] != similarity[$1] ? similarity[$0] > similarity[$1] : $0 < $1 }.prefix(k)
            let chosen = best.map { pool[candidates[$0]] }
            return closest == "last" ? chosen.reversed() : chosen
        }
        let order = Philox.permutation(candidates.count, seed: seed, stream: 0x7368_6f74_0000 + UInt64(index))
        return order.prefix(k).map { pool[candidates[$0]] }
    }

    /// Words and the characters of numbers (so "12+34" resembles "12+35").
    static func words(_ s: String) -> Set<String> {
        Set(s.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init) + s.filter(\.isNumber).map { String($0) })
    }
}

/// prompt.template and data.template.
enum PromptRunners {
    /// The prompt and its few-shot pool (`prompt.json`); with an encoder, the pool's
    /// embeddings too (`pool.f32`, a row per example), so each query is the only text embedded
    /// where the prompt is used.
    static func template(_ ctx: NodeContext) throws {
        let pool = try ctx.inputs(.source).first.map { try ctx.dataset($0).records } ?? []
        var prompt = Prompt(try ctx.parameters(PromptParameters.self), pool: pool)
        if let encoder = try ctx.inputs(.encoder).first.map({ try Encoder($0.artifact, normalize: true) }) {
            let vectors = encoder.embed(pool.map(Prompt.query), progress: Encoder.reporting(ctx, "embedding examples"))
            var flat = vectors.flatMap { $0 }
            try Data(bytes: &flat, count: flat.count * 4).write(to: URL(fileURLWithPath: ctx.out("pool.f32")))
            prompt.poolVectors = vectors
        }
        try JSONText.render(prompt.json).write(toFile: ctx.out("prompt.json"), atomically: false, encoding: .utf8)
    }

    /// The prompt a node renders (nil without one), with the encoder its examples are chosen
    /// by when it has one.
    static func load(_ ctx: NodeContext) throws -> Prompt? {
        guard let artifact = ctx.inputs(.prompt).first?.artifact else { return nil }
        return try load(artifact, shotEncoder: ctx.inputs(.shotEncoder).first?.artifact)
    }

    /// A prompt artifact, with the encoder that chooses its examples when it has one.
    static func load(_ artifact: Artifact, shotEncoder: Artifact?) throws -> Prompt {
        guard let data = FileManager.default.contents(atPath: artifact.path("prompt.json")),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { throw ExecutionError.unreadablePrompt(artifact.key) }
        var prompt = Prompt(json: json)
        if json["embedded"] as? Bool == true {
            guard let encoder = shotEncoder,
                  let bytes = FileManager.default.contents(atPath: artifact.path("pool.f32"))
            else { throw ExecutionError.unreadablePrompt(artifact.key) }
            let e = try Encoder(encoder, normalize: true)
            guard bytes.count == prompt.pool.count * e.dimension * 4 else { throw ExecutionError.unreadablePrompt(artifact.key) }
            let flat = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            prompt.poolVectors = (0..<prompt.pool.count).map { Array(flat[($0 * e.dimension)..<(($0 + 1) * e.dimension)]) }
            prompt.encoder = e
        }
        return prompt
    }

    /// Every record through the prompt: instruction records of the rendered prompt and the
    /// answer; preference pairs stay pairs, the prompt rendered and both answers kept.
    static func apply(_ ctx: NodeContext) throws {
        guard let prompt = try load(ctx) else { throw ExecutionError.noInput(.prompt) }
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
