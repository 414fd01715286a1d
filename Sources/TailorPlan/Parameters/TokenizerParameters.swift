import TailorSpec

/// tokenizer.train: byte-level BPE learned from datasets.
public struct TokenizerTrainParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.tokenizerTrain]
    public var vocab: Int
    public var minFrequency: Int
    /// Special tokens besides end of text, which every tokenizer has.
    public var special: [String]

    public init(_ p: Params) throws {
        vocab = try p.required("vocab", \.int)
        minFrequency = try p.required("min_frequency", \.int)
        special = p["special"]?.strings ?? []
    }
}

/// tokenizer.bytes: the special tokens the spec adds.
public struct SpecialTokensParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.tokenizerBytes]
    public var special: [String]
    public init(_ p: Params) throws { special = p["special"]?.strings ?? [] }
}

/// tokenizer.load: a file's tokenizer. It defines its own special tokens, so the checker
/// refuses the spec's and the runner refuses any that reach it.
public struct TokenizerLoadParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.tokenizerLoad]
    public static var version: Int { 2 }  // 2: a GGUF model's chat template kept with it
    public var special: [String]
    public init(_ p: Params) throws { special = p["special"]?.strings ?? [] }
}

/// prompt.template: the template, its wrapping, chain of thought and few-shot selection.
public struct PromptParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.promptTemplate]
    public static var version: Int { 2 }  // 2: `closest`, and the pool's embeddings with an encoder
    public static let defaultThought = "Let's think step by step."
    public var template: String
    public var system: String?
    public var style: String
    /// The reasoning cue, if any (`true` in the spec is `defaultThought`).
    public var chainOfThought: String?
    /// Examples before the prompt, and how they are chosen; 0 and "random" without few-shot.
    public var k: Int, select: String
    /// Where `similar` puts the most similar example: `first` or `last`.
    public var closest: String
    public var seed: Int

    public init(_ p: Params) throws {
        template = try p.required("template", \.string)
        system = p.optional("system", \.string)
        style = try p.required("style", \.string)
        let cot = try p.required("chain_of_thought") { $0 }
        chainOfThought = cot.bool == true ? Self.defaultThought : cot.string
        if let fewShot = p["few_shot"] {
            k = try fewShot.required("k", \.int)
            select = try fewShot.required("select", \.string)
            closest = fewShot.optional("closest", \.string) ?? "first"
        } else {
            (k, select, closest) = (0, "random", "first")
        }
        seed = try p.required("seed", \.int)
    }
}
