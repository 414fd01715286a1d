import TailorDiagnostics

/// A reference to a dataset or one part of a split dataset (`split.train`).
public struct DataRef: Hashable, Sendable {
    public var name: String
    public var part: String?

    public init(name: String, part: String? = nil) {
        self.name = name
        self.part = part
    }

    /// `name` or `name.part`, as written in specs and shown in plans.
    public var id: String { part.map { "\(name).\($0)" } ?? name }
}

/// What a model is for; the typed ports of evals and customizations read this.
public enum ModelKind: String, Sendable {
    case languageModel = "a language model"
    case encoder = "an encoder"
    case classifier = "a classifier"
    case reward = "a reward model"
}

/// The dimensions that estimates need; unknown for loaded files that do not say.
public struct Dimensions: Sendable, Hashable {
    public var layers: Int
    public var width: Int
    public var heads: Int
    public var kvHeads: Int
    public var context: Int
    public var mlp: Int
    public var vocab: Int?
    /// Whether the output head shares the embedding matrix.
    public var tiedHead: Bool

    public init(layers: Int, width: Int, heads: Int, kvHeads: Int, context: Int, mlp: Int, vocab: Int?, tiedHead: Bool) {
        (self.layers, self.width, self.heads, self.kvHeads) = (layers, width, heads, kvHeads)
        (self.context, self.mlp, self.vocab, self.tiedHead) = (context, mlp, vocab, tiedHead)
    }
}

/// What a loaded model's files say about it without their weights being read (a GGUF header,
/// a Hugging Face `config.json`): enough for the checker's checks and the planner's estimates.
public struct ModelHeader: Sendable {
    public var arch: Architecture
    public var dims: Dimensions
    public init(arch: Architecture, dims: Dimensions) {
        self.arch = arch
        self.dims = dims
    }
}

/// Reads the header of the model at a path (a `.gguf` file or a folder), or nil where it cannot.
/// The checker is given one: reading model files is the models module's work, not the spec's.
public typealias ModelHeaderReader = @Sendable (_ path: String) -> ModelHeader?

/// A dataset with its record format and, for splits, its parts.
public struct DatasetInfo: Sendable {
    public var name: String
    public var format: DataFormat?
    public var parts: [String]?
    public var value: Value
}

/// A tokenizer; `identity` says which models share it.
public struct TokenizerInfo: Sendable {
    public var name: String
    public var vocab: Int?
    public var value: Value
}

/// A model with what the checker derived about it.
public struct ModelInfo: Sendable {
    public var name: String
    public var kind: ModelKind?
    public var arch: Architecture?
    public var dims: Dimensions?
    /// The base model for derived models.
    public var base: String?
    /// `init`, `pretrain`, `load`, or the customization (`lora`, `dpo`, …).
    public var method: String
    /// The tokenizer entry or loaded file the model reads text with.
    public var tokenizer: String?
    /// Whether a LoRA adapter sits anywhere in the chain from the root model.
    public var hasAdapter: Bool
    public var value: Value
}

/// A spec that passed checking: the typed tree plus what the checker derived.
public struct CheckedSpec: Sendable {
    public var file: String
    public var directory: String
    public var name: String
    public var seed: Int
    public var variant: String?
    /// The sweep assignments of this variant, e.g. `[("rank", "4")]`.
    public var assignments: [(name: String, value: String)]
    /// What the spec's sweep varies (empty without one).
    public var scope: SweepScope
    public var value: Value
    public var datasets: [String: DatasetInfo]
    public var tokenizers: [String: TokenizerInfo]
    public var models: [String: ModelInfo]

    /// Entries of a top-level section in the order written.
    public func section(_ name: String) -> [(String, Value)] { value[name]?.entries ?? [] }

    /// Resolves a path written in the spec against the spec's folder.
    public func resolvePath(_ path: String) -> String { CheckedSpec.resolve(path, in: directory) }

    /// `path` as written in a spec whose folder is `directory`: absolute paths stay as they are.
    static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : (directory == "." ? path : directory + "/" + path)
    }
}
