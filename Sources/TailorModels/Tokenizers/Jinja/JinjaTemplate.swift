/// A chat template as Hugging Face models ship it (Jinja, in `tokenizer_config.json` or GGUF's
/// `tokenizer.chat_template`), parsed once and rendered for any conversation. No Swift Jinja
/// library is available here, so this reads the subset chat templates use (JinjaParser) and
/// refuses the rest by name; `Tests/TailorModelsTests/Fixtures/chat-templates` holds the
/// templates of SmolLM2, Llama 3, Qwen2, Mistral and Gemma with Python jinja2's renderings.
public struct JinjaTemplate: Sendable {
    public let source: String
    let nodes: [JinjaNode]

    public init(_ source: String) throws {
        self.source = source
        var parser = try JinjaParser(source)
        nodes = try parser.parse()
    }

    /// The template over `messages` (each `{role, content}`), with the variables transformers
    /// passes: `add_generation_prompt`, `bos_token`, `eos_token`, `tools` and `documents` (none
    /// here), and any `extra` ones.
    public func render(messages: [(role: String, content: String)], addGenerationPrompt: Bool,
                       bosToken: String = "", eosToken: String = "", extra: [String: JinjaValue] = [:]) throws -> String {
        var globals: [String: JinjaValue] = ["tools": .none, "documents": .none].merging(extra) { _, given in given }
        globals["messages"] = .list(messages.map { .dict([("role", .string($0.role)), ("content", .string($0.content))]) })
        globals["add_generation_prompt"] = .bool(addGenerationPrompt)
        globals["bos_token"] = .string(bosToken)
        globals["eos_token"] = .string(eosToken)
        return try JinjaEvaluator.render(nodes, globals)
    }
}
