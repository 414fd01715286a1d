import TailorEngine
import TailorModels

/// How a record becomes text for tokenizers and language models: a context part (the
/// prompt, never a training target unless asked) and the part the model learns to write.
enum Rendering {
    static let endOfText = "<|endoftext|>"

    static func parts(_ record: [String: Any]) -> (context: String, answer: String)? {
        if let prompt = record["prompt"] as? String, let response = record["response"] as? String { return (prompt, response) }
        if let prompt = record["prompt"] as? String, let chosen = record["chosen"] as? String { return (prompt, chosen) }
        // A conversational preference pair: the prompt's turns, then the chosen ones.
        if let prompt = record["prompt"] as? [[String: Any]], let chosen = record["chosen"] as? [[String: Any]] {
            return (turns(prompt), turns(chosen))
        }
        if let messages = record["messages"] as? [[String: Any]] { return ("", turns(messages)) }
        if let text = record["text"] as? String { return ("", text) }
        return nil
    }

    /// A record's chat turns as the models module's messages.
    static func messages(_ turns: [[String: Any]]) -> [ChatTemplate.Message] {
        turns.map { ChatTemplate.Message(role: $0["role"] as? String ?? "user", content: $0["content"] as? String ?? "") }
    }

    /// Chat turns as plain text, one `role: content` line each.
    static func turns(_ messages: [[String: Any]]) -> String {
        messages.compactMap { m -> String? in
            guard let role = m["role"] as? String, let content = m["content"] as? String else { return nil }
            return "\(role): \(content)\n"
        }.joined()
    }

    /// Every record's full text (for tokenizer training).
    static func texts(_ data: Dataset, source: String) throws -> [String] {
        try data.records.enumerated().map { i, r in
            guard let (context, answer) = parts(r) else { throw ExecutionError.noTextFields(source, record: i + 1) }
            return context + answer
        }
    }
}
