import Foundation

/// Reads one record of a user's file into Tailor's record of its format, in whichever layout
/// the file uses: Tailor's own fields (renamed by `fields:`), Alpaca, ShareGPT, OpenAI's
/// `messages`, and TRL's three preference layouts. Every problem goes into `problems`, by kind.
public struct RecordReader {
    /// The spec's `format:` (a record format or a file layout).
    public let format: String
    /// `fields:`: Tailor's (or the layout's) field name → the file's.
    public let fields: [String: String]
    public var problems = DataProblems()

    public init(format: String, fields: [String: String]) {
        (self.format, self.fields) = (format, fields)
    }

    /// The fields each of Tailor's own formats must have.
    static let required: [String: [String]] = [
        "text": ["text"], "instruction": ["prompt", "response"], "classification": ["text", "label"],
        "documents": ["id", "text"], "queries": ["question"],
    ]

    /// Chat roles as ShareGPT writes them → OpenAI's.
    static let shareGPTRoles = ["human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"]
    static let chatRoles: Set<String> = ["system", "user", "assistant"]

    public mutating func read(_ raw: [String: Any], at place: Int) -> [String: Any]? {
        switch format {
        case "alpaca": alpaca(raw, place)
        case "sharegpt": shareGPT(raw, place)
        case "chat": messages(raw, "messages", place).map { ["messages": $0] }
        case "preference": preference(raw, place)
        default: plain(raw, place)
        }
    }

    // MARK: fields

    func source(_ field: String) -> String { fields[field] ?? field }

    /// The value of `field` (under its mapped name), or nil where the record lacks it.
    func value(_ raw: [String: Any], _ field: String) -> Any? {
        guard let v = raw[source(field)], !(v is NSNull) else { return nil }
        return v
    }

    /// A text field every record of the format needs.
    mutating func text(_ raw: [String: Any], _ field: String, _ place: Int) -> String? {
        guard let v = value(raw, field) else {
            problems.add(DataProblems.lacks(source(field), field, format), at: place)
            return nil
        }
        guard let s = v as? String else {
            problems.add(DataProblems.notText(source(field), v), at: place)
            return nil
        }
        return s
    }

    /// Tailor's own formats: the required fields, each text (a label may be a number).
    mutating func plain(_ raw: [String: Any], _ place: Int) -> [String: Any]? {
        var record: [String: Any] = [:], ok = true
        // A query's relevant documents and its id, when the file has them (`fields:` may rename them).
        if format == "queries", let relevant = value(raw, "relevant") { record["relevant"] = relevant }
        if format == "queries", let id = value(raw, "id") { record["id"] = id }
        // Its answer, when there is one to score generated answers against (BEIR's have none).
        if format == "queries", raw[source("answer")] != nil {
            guard let answer = text(raw, "answer", place) else { return nil }
            record["answer"] = answer
        }
        for field in Self.required[format] ?? [] {
            if field == "label", let v = value(raw, field) {
                guard v is String || v is NSNumber else {
                    problems.add(DataProblems.label(source(field)), at: place)
                    ok = false
                    continue
                }
                record[field] = v
            } else if let s = text(raw, field, place) {
                record[field] = s
            } else {
                ok = false
            }
        }
        // A document's title, when it has one, leads its text, as BEIR's dense retrievers read a corpus.
        if format == "documents", ok, let title = value(raw, "title") {
            guard let t = title as? String else {
                problems.add(DataProblems.notText(source("title"), title), at: place)
                return nil
            }
            if !t.isEmpty, let text = record["text"] as? String { record["text"] = t + " " + text }
        }
        return ok ? record : nil
    }

    // MARK: Alpaca

    /// Alpaca's prompt around an instruction and, when there is one, its input: the template of
    /// the Stanford Alpaca data, so a model tuned here is prompted as Alpaca-tuned models are.
    static func alpacaPrompt(_ instruction: String, input: String?) -> String {
        guard let input, !input.isEmpty else {
            return "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
                + "### Instruction:\n\(instruction)\n\n### Response:\n"
        }
        return "Below is an instruction that describes a task, paired with an input that provides further context. "
            + "Write a response that appropriately completes the request.\n\n"
            + "### Instruction:\n\(instruction)\n\n### Input:\n\(input)\n\n### Response:\n"
    }

    /// `instruction`, optional `input`, `output` → an instruction record.
    mutating func alpaca(_ raw: [String: Any], _ place: Int) -> [String: Any]? {
        let instruction = text(raw, "instruction", place), output = text(raw, "output", place)
        let given = value(raw, "input"), input = given as? String  // optional, but text when given
        if let given, input == nil { problems.add(DataProblems.notText(source("input"), given), at: place) }
        guard let instruction, let output, given == nil || input != nil else { return nil }
        return ["prompt": Self.alpacaPrompt(instruction, input: input), "response": output]
    }

    // MARK: chats

    /// `field` as a list of OpenAI messages `{role, content}` (system, user, assistant).
    mutating func messages(_ raw: [String: Any], _ field: String, _ place: Int) -> [[String: Any]]? {
        guard let v = value(raw, field) else {
            problems.add(DataProblems.lacks(source(field), field, format), at: place)
            return nil
        }
        return turns(v, field, place)
    }

    mutating func turns(_ v: Any, _ field: String, _ place: Int) -> [[String: Any]]? {
        guard let list = v as? [[String: Any]], !list.isEmpty,
              list.allSatisfy({ $0["role"] is String && $0["content"] is String }) else {
            problems.add(DataProblems.notTurns(source(field), "{role, content}"), at: place)
            return nil
        }
        if let odd = list.lazy.compactMap({ $0["role"] as? String }).first(where: { !Self.chatRoles.contains($0) }) {
            problems.add(DataProblems.role(source(field), odd, allowed: "system, user or assistant"), at: place)
            return nil
        }
        return list.map { ["role": $0["role"]!, "content": $0["content"]!] }
    }

    /// ShareGPT's `conversations` of `{from, value}` → a chat record.
    mutating func shareGPT(_ raw: [String: Any], _ place: Int) -> [String: Any]? {
        guard let v = value(raw, "conversations") else {
            problems.add(DataProblems.lacks(source("conversations"), "conversations", format), at: place)
            return nil
        }
        guard let list = v as? [[String: Any]], !list.isEmpty,
              list.allSatisfy({ $0["from"] is String && $0["value"] is String }) else {
            problems.add(DataProblems.notTurns(source("conversations"), "{from, value}"), at: place)
            return nil
        }
        var messages: [[String: Any]] = []
        for turn in list {
            let from = turn["from"] as! String
            guard let role = Self.shareGPTRoles[from] else {
                problems.add(DataProblems.role(source("conversations"), from, allowed: "human, gpt, system, user or assistant"), at: place)
                return nil
            }
            messages.append(["role": role, "content": turn["value"]!])
        }
        return ["messages": messages]
    }

    // MARK: preferences

    /// TRL's preference layouts: explicit `prompt`, `chosen`, `rejected` as text; the implicit
    /// prompt (`chosen` and `rejected` begin with the same prompt, which is split off); and the
    /// conversational form, each field a list of messages (the prompt, when absent, being the
    /// turns both begin with). Text pairs become text records, conversations message lists.
    mutating func preference(_ raw: [String: Any], _ place: Int) -> [String: Any]? {
        guard let chosen = value(raw, "chosen"), let rejected = value(raw, "rejected") else {
            for field in ["chosen", "rejected"] where value(raw, field) == nil {
                problems.add(DataProblems.lacks(source(field), field, format), at: place)
            }
            return nil
        }
        switch (chosen, rejected) {
        case (let c as String, let r as String):
            if let prompt = value(raw, "prompt") {
                guard let p = prompt as? String else {
                    problems.add(DataProblems.notText(source("prompt"), prompt), at: place)
                    return nil
                }
                // Nothing to prefer: identical answers, or an answer with no text to score.
                if c == r {
                    problems.add(DataProblems.sameResponses, at: place)
                    return nil
                }
                if c.allSatisfy(\.isWhitespace) || r.allSatisfy(\.isWhitespace) {
                    problems.add(DataProblems.blankResponse, at: place)
                    return nil
                }
                return ["prompt": p, "chosen": c, "rejected": r]
            }
            let (c, r) = (Array(c), Array(r))
            var split = zip(c, r).prefix { $0 == $1 }.count
            if split == c.count && split == r.count {
                problems.add(DataProblems.sameResponses, at: place)
                return nil
            }
            if split > 0, c[split - 1] == " " { split -= 1 }  // the space before the answers goes with them
            guard split > 0 else {
                problems.add(DataProblems.noSharedPrompt, at: place)
                return nil
            }
            guard split < c.count, split < r.count else {  // one is the other with more after it
                problems.add(DataProblems.emptyAnswer, at: place)
                return nil
            }
            return ["prompt": String(c[..<split]), "chosen": String(c[split...]), "rejected": String(r[split...])]
        case (is [Any], is [Any]):
            guard let c = turns(chosen, "chosen", place), let r = turns(rejected, "rejected", place) else { return nil }
            if let prompt = value(raw, "prompt") {
                guard let p = turns(prompt, "prompt", place) else { return nil }
                if NSArray(array: c).isEqual(to: r) {
                    problems.add(DataProblems.sameResponses, at: place)
                    return nil
                }
                return ["prompt": p, "chosen": c, "rejected": r]
            }
            let shared = zip(c, r).prefix { NSDictionary(dictionary: $0).isEqual(to: $1) }.count
            guard shared > 0 else {
                problems.add(DataProblems.noSharedPrompt, at: place)
                return nil
            }
            guard shared < c.count, shared < r.count else {
                problems.add(DataProblems.sameResponses, at: place)
                return nil
            }
            return ["prompt": Array(c[..<shared]), "chosen": Array(c[shared...]), "rejected": Array(r[shared...])]
        default:
            problems.add(DataProblems.mixedPair, at: place)
            return nil
        }
    }
}
