/// How a record becomes text for tokenizers and language models: a context part (the
/// prompt, never a training target unless asked) and the part the model learns to write.
public enum RecordText {
    public static func parts(_ record: [String: Any]) -> (context: String, answer: String)? {
        if let prompt = record["prompt"] as? String, let response = record["response"] as? String { return (prompt, response) }
        if let prompt = record["prompt"] as? String, let chosen = record["chosen"] as? String { return (prompt, chosen) }
        // A conversational preference pair: the prompt's turns, then the chosen ones.
        if let prompt = record["prompt"] as? [[String: Any]], let chosen = record["chosen"] as? [[String: Any]] {
            return (turns(prompt), turns(chosen))
        }
        if let messages = record["messages"] as? [[String: Any]] { return ("", turns(messages)) }
        if let question = record["question"] as? String, let answer = record["answer"] as? String { return (question, answer) }
        if let text = record["text"] as? String { return ("", text) }
        return nil
    }

    /// A preference pair's rejected side, as `parts` gives its chosen side: the prompt (text,
    /// or its turns) and the rejected answer; nil for records that are not pairs.
    public static func rejectedParts(_ record: [String: Any]) -> (context: String, answer: String)? {
        if let prompt = record["prompt"] as? String, let rejected = record["rejected"] as? String { return (prompt, rejected) }
        if let prompt = record["prompt"] as? [[String: Any]], let rejected = record["rejected"] as? [[String: Any]] {
            return (turns(prompt), turns(rejected))
        }
        return nil
    }

    /// Chat turns as plain text, one `role: content` line each.
    public static func turns(_ messages: [[String: Any]]) -> String {
        messages.compactMap { m -> String? in
            guard let role = m["role"] as? String, let content = m["content"] as? String else { return nil }
            return "\(role): \(content)\n"
        }.joined()
    }
}
