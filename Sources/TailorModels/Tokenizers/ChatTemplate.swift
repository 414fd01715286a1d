/// How a chat is written as one text for a model: the model's own Jinja chat template (from
/// its `tokenizer_config.json` or GGUF's `tokenizer.chat_template`), rendered as transformers
/// renders it; or, for models without one, a plain `Role: text` layout.
public enum ChatTemplate: Sendable {
    /// The model's template, with the BOS and EOS texts it may write.
    case jinja(JinjaTemplate, bos: String, eos: String)
    case plain

    public struct Message: Sendable, Equatable {
        public var role: String
        public var content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    /// The model's template, or plain for a model without one. A template this reader cannot
    /// parse is an error, not a silent fallback: the model would be prompted unlike its training.
    public init(jinja: String?, bos: String? = nil, eos: String? = nil) throws {
        guard let jinja, !jinja.isEmpty else {
            self = .plain
            return
        }
        self = .jinja(try JinjaTemplate(jinja), bos: bos ?? "", eos: eos ?? "")
    }

    /// The chat as text; with `generationPrompt`, ending where the assistant's answer begins.
    public func render(_ messages: [Message], generationPrompt: Bool = true) throws -> String {
        switch self {
        case .jinja(let template, let bos, let eos):
            return try template.render(messages: messages.map { ($0.role, $0.content) }, addGenerationPrompt: generationPrompt,
                                       bosToken: bos, eosToken: eos)
        case .plain:
            return messages.map { "\($0.role.prefix(1).uppercased() + $0.role.dropFirst()): \($0.content)\n" }.joined()
                + (generationPrompt ? "Assistant:" : "")
        }
    }

    /// A one-turn chat: an optional system message, then the user's prompt.
    public func render(prompt: String, system: String? = nil) throws -> String {
        try render((system.map { [Message(role: "system", content: $0)] } ?? []) + [Message(role: "user", content: prompt)])
    }

    /// The chat as consecutive pieces of text, each marked whether it is an assistant turn
    /// (what fine-tuning learns to write) or not. An assistant turn is what rendering it adds
    /// after the chat before it with the generation prompt (the turn's words and whatever end
    /// marker the template writes after them), so masking follows the template itself.
    public func pieces(_ messages: [Message]) throws -> [(text: String, assistant: Bool)] {
        var pieces: [(String, Bool)] = []
        var done = ""  // the text the pieces so far cover
        func add(_ text: String, _ assistant: Bool) throws {
            guard text.hasPrefix(done) else { throw JinjaError.render(Self.notIncremental) }
            let piece = String(text.dropFirst(done.count))
            if !piece.isEmpty { pieces.append((piece, assistant)) }
            done = text
        }
        for (i, message) in messages.enumerated() where message.role == "assistant" {
            try add(try render(Array(messages[..<i]), generationPrompt: true), false)
            try add(try render(Array(messages[...i]), generationPrompt: false), true)
        }
        try add(try render(messages, generationPrompt: false), false)
        return pieces
    }

    static let notIncremental = "it does not write a chat as its turns one after another (a turn rendered later changes an earlier one), "
        + "so its assistant turns cannot be told apart for the loss"
}
