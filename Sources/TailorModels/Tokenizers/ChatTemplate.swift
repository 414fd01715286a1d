/// How a chat is written as one prompt. Tailor knows the templates it can render exactly
/// rather than interpreting arbitrary Jinja: ChatML (`<|im_start|>role\n…<|im_end|>\n`) and a
/// plain `Role: text` layout for models without one.
public enum ChatTemplate: Sendable, Equatable {
    /// ChatML; `defaultSystem` is the system message the model's own template adds when the
    /// chat has none (SmolLM2: "You are a helpful AI assistant named SmolLM, trained by Hugging Face").
    case chatML(defaultSystem: String?)
    case plain

    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    /// The template a model's Jinja chat template describes: ChatML when it writes
    /// `<|im_start|>`, with the default system message it embeds; plain otherwise.
    public init(jinja: String?) {
        guard let jinja, jinja.contains("<|im_start|>") else {
            self = .plain
            return
        }
        let marker = "<|im_start|>system\n"
        if let start = jinja.range(of: marker), let end = jinja.range(of: "<|im_end|>", range: start.upperBound..<jinja.endIndex) {
            let text = String(jinja[start.upperBound..<end.lowerBound])
            self = .chatML(defaultSystem: text.contains("{") ? nil : text)
        } else {
            self = .chatML(defaultSystem: nil)
        }
    }

    /// The prompt for `messages`, ending where the assistant's answer begins.
    public func render(_ messages: [Message]) -> String {
        switch self {
        case .chatML(let defaultSystem):
            var all = messages
            if all.first?.role != "system", let defaultSystem { all.insert(Message(role: "system", content: defaultSystem), at: 0) }
            return all.map { "<|im_start|>\($0.role)\n\($0.content)<|im_end|>\n" }.joined() + "<|im_start|>assistant\n"
        case .plain:
            return messages.map { "\($0.role.prefix(1).uppercased() + $0.role.dropFirst()): \($0.content)\n" }.joined() + "Assistant:"
        }
    }

    /// A one-turn chat: an optional system message, then the user's prompt.
    public func render(prompt: String, system: String? = nil) -> String {
        render((system.map { [Message(role: "system", content: $0)] } ?? []) + [Message(role: "user", content: prompt)])
    }
}
