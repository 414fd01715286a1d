/// A prompt's text for one record, as `data.template` and evals write it and as the planner
/// counts it: few-shot examples (each followed by its answer), the filled template, the
/// reasoning cue, and ChatML's wrapping with the system message. Which examples a record gets
/// is the caller's (the run draws them per record with the seed).
public struct PromptText: Sendable {
    public var template: String
    public var system: String?
    /// `plain` or `chatml`.
    public var style: String
    public var chainOfThought: String?
    /// A field value that is not text (a list of turns), as the prompt writes it.
    public var nonText: @Sendable (Any) -> String

    public init(template: String, system: String?, style: String, chainOfThought: String?, nonText: @escaping @Sendable (Any) -> String) {
        (self.template, self.system, self.style, self.chainOfThought, self.nonText) = (template, system, style, chainOfThought, nonText)
    }

    /// `{field}` placeholders filled from the record in one pass over the template (so a value
    /// that itself holds `{other}` stays as written); unknown fields left as written.
    public func fill(_ record: [String: Any]) -> String {
        var out = "", rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}"), let value = record[String(after[..<close])] else {
                out += "{"
                rest = after
                continue
            }
            out += (value as? String) ?? nonText(value)
            rest = after[after.index(after: close)...]
        }
        return out + rest
    }

    /// What the user says: the examples with their answers, the filled template and the cue.
    public func userText(_ record: [String: Any], shots: [[String: Any]]) -> String {
        var text = ""
        for example in shots {
            text += fill(example) + " " + (RecordText.parts(example)?.answer ?? "") + "\n\n"
        }
        text += fill(record)
        if let chainOfThought { text += " " + chainOfThought }
        return text
    }

    /// The whole prompt: the user's text, wrapped in ChatML (after the system message) for
    /// `chatml`.
    public func render(_ record: [String: Any], shots: [[String: Any]]) -> String {
        let text = userText(record, shots: shots)
        guard style == "chatml" else { return text }
        return (system.map { "<|im_start|>system\n\($0)<|im_end|>\n" } ?? "") + "<|im_start|>user\n\(text)<|im_end|>\n<|im_start|>assistant\n"
    }
}
