/// The fixed vocabularies of the spec language: data formats, generators,
/// architectures and metrics, with what each needs and provides. The checker's
/// typed ports are read from these tables.

/// The record shape of a dataset. Every dataset has exactly one.
public enum DataFormat: String, Sendable, CaseIterable {
    case text, instruction, chat, preference, classification, documents, queries

    /// The fields every record has, which prompt placeholders and `fields:` maps name.
    public var fields: [String] {
        switch self {
        case .text: ["text"]
        case .instruction: ["prompt", "response"]
        case .chat: ["messages"]
        case .preference: ["prompt", "chosen", "rejected"]
        case .classification: ["text", "label"]
        case .documents: ["id", "title", "text"]
        case .queries: ["id", "question", "answer", "relevant"]
        }
    }

    /// Formats a language model can be trained on as plain token streams.
    public static let languageModeling: [DataFormat] = [.text, .instruction, .chat]

    /// The format a spec's `format:` names: one of these, or a file layout read into one.
    public init?(named name: String) {
        guard let format = DataFormat(rawValue: name) ?? RecordLayout(rawValue: name)?.format else { return nil }
        self = format
    }
}

/// A layout of other tools' files that Tailor reads into the records of one of its formats
/// (`format: alpaca` gives instruction records). Preference files and OpenAI `messages` need
/// none: `preference` and `chat` read those layouts as they are.
public enum RecordLayout: String, Sendable, CaseIterable {
    /// Stanford Alpaca: `instruction`, optional `input`, `output`.
    case alpaca
    /// ShareGPT: `conversations` of `{from, value}`, from `human`, `gpt` or `system`.
    case sharegpt

    public var format: DataFormat {
        switch self {
        case .alpaca: .instruction
        case .sharegpt: .chat
        }
    }

    /// The file's fields, which `fields:` may rename.
    public var fields: [String] {
        switch self {
        case .alpaca: ["instruction", "input", "output"]
        case .sharegpt: ["conversations"]
        }
    }
}

/// A built-in, deterministic, offline data generator.
public struct Generator: Sendable {
    public var name: String
    public var format: DataFormat
    public var doc: String
    public var options: ObjectSchema

    /// The invented people the `documents` generator writes about, one a sheet (the data
    /// module's name lists; a test holds the two equal).
    public static let documentSubjects = 20_736

    public static let all: [Generator] = [
        Generator(name: "addition", format: .instruction, doc: "sums of random integers: `123+45=` → `168`",
                  options: opts("addition", [Field("digits", .int(min: 1, max: 9), default: .int(3), "largest number of digits per operand")])),
        Generator(name: "reverse", format: .instruction, doc: "reverse a random lowercase word",
                  options: opts("reverse", lengthFields)),
        Generator(name: "uppercase", format: .instruction, doc: "upper-case a random lowercase word",
                  options: opts("uppercase", lengthFields)),
        Generator(name: "sorting", format: .instruction, doc: "sort a list of small integers",
                  options: opts("sorting", [Field("items", .int(min: 2, max: 32), default: .int(5), "numbers per list"),
                                            Field("descending", .int(min: 0, max: 1), default: .int(0),
                                                  "1: largest first, asked as `sort down …:` (a variant of the skill for fine-tuning)")])),
        Generator(name: "kv_recall", format: .instruction, doc: "recall the value of a key from a list of key=value pairs",
                  options: opts("kv_recall", [Field("pairs", .int(min: 1, max: 64), default: .int(4), "pairs per example")])),
        Generator(name: "stories", format: .text, doc: "short grammatical stories for pretraining",
                  options: opts("stories", [Field("sentences", .int(min: 1, max: 64), default: .int(4), "sentences per story")])),
        Generator(name: "chat", format: .chat, doc: "multi-turn user/assistant conversations about arithmetic and words",
                  options: opts("chat", [Field("turns", .int(min: 1, max: 16), default: .int(2), "user turns per conversation")])),
        Generator(name: "preferences", format: .preference, doc: "arithmetic prompts with a correct (chosen) and a wrong (rejected) answer",
                  options: opts("preferences", [Field("digits", .int(min: 1, max: 9), default: .int(2), "largest number of digits per operand"),
                                                Field("below", .int(min: 0, max: 1), default: .int(0),
                                                      "1: the wrong answer is below the right one (1 to 9 less, above it only where that would go under 0); 0: 1 to 9 above it. The prompts are the same either way, so a reward model can be probed for a shortcut"),
                                                Field("far", .int(min: 0, max: 1), default: .int(0),
                                                      "1: the wrong answer is any other number from 0 to twice the largest operand, drawn uniformly, not one near the right sum (what a policy's own mistakes look like to a reward model); not with `below: 1`")])),
        Generator(name: "sentiment", format: .classification, doc: "short reviews labelled by sentiment",
                  options: opts("sentiment", [Field("classes", .int(min: 2, max: 5), default: .int(2), "number of labels")])),
        Generator(name: "reviews", format: .classification, doc: "one-sentence reviews labelled negative or positive, from one of two disjoint word lists",
                  options: opts("reviews", [Field("lexicon", .int(min: 1, max: 2), default: .int(1),
                                                  "which list of sentiment words: train on one and test on the other to measure transfer to unseen words")])),
        Generator(name: "extract", format: .instruction,
                  doc: "pull the person and the city out of a sentence as JSON: `Extract … Maria moved to Lisbon in 2019.` → `{\"person\": \"Maria\", \"city\": \"Lisbon\"}`",
                  options: opts("extract", [])),
        Generator(name: "extract_pairs", format: .preference,
                  doc: "`extract`'s prompts, record for record, with the right JSON chosen and a wrong one rejected: the values swapped, or keys of the model's own (`name`, `location`)",
                  options: opts("extract_pairs", [Field("trailing", .int(min: 0, max: 1), default: .int(0),
                                                        "1: a third kind of rejected answer, the right JSON followed by a sentence about it (right as a value by `answer_check`, which reads the first JSON object, but not an exact answer: it teaches the answer to stop)")])),
        Generator(name: "documents", format: .documents, doc: "fact sheets about fictional people, for retrieval",
                  options: opts("documents", [Field("facts", .int(min: 1, max: 10), default: .int(4), "facts per document, each of a different kind (birthplace, job, age, …; 10 kinds)")])),
        Generator(name: "questions", format: .queries, doc: "questions answered by one document of a `documents` dataset",
                  options: opts("questions", [Field("documents", .reference(.data), required: true, "the documents dataset the questions are about")])),
    ]

    public static func named(_ name: String) -> Generator? { all.first { $0.name == name } }

    /// Every generator's options without defaults; the checker then keeps the chosen
    /// generator's own and fills its defaults.
    public static let allOptions: ObjectSchema = {
        var fields: [Field] = []
        for g in all {
            for var f in g.options.fields where !fields.contains(where: { $0.name == f.name }) {
                f.required = false
                f.defaultValue = nil
                fields.append(f)
            }
        }
        return ObjectSchema("generator options", doc: "options of a generator", fields: fields)
    }()

    private static let lengthFields = [
        Field("min_length", .int(min: 1, max: 64), default: .int(3), "shortest word"),
        Field("max_length", .int(min: 1, max: 64), default: .int(8), "longest word"),
    ]

    private static func opts(_ name: String, _ fields: [Field]) -> ObjectSchema {
        ObjectSchema("\(name) options", doc: "options of the `\(name)` generator", fields: fields)
    }
}

/// A model architecture: its family and the module names LoRA and freezing address.
public struct Architecture: Sendable {
    public enum Family: String, Sendable { case decoder, encoder }

    public var name: String
    public var family: Family
    /// Stable module names, the same for every architecture where the role is the same.
    public var modules: [String]
    public var doc: String

    public static let all: [Architecture] = [
        Architecture(name: "gpt2", family: .decoder,
                     modules: ["attn.q", "attn.k", "attn.v", "attn.o", "mlp.up", "mlp.down"],
                     doc: "GPT-2 style decoder: learned positions, LayerNorm, fused QKV with bias, GELU MLP, tied head"),
        Architecture(name: "llama", family: .decoder,
                     modules: ["attn.q", "attn.k", "attn.v", "attn.o", "mlp.gate", "mlp.up", "mlp.down"],
                     doc: "Llama style decoder: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention"),
        Architecture(name: "bert", family: .encoder,
                     modules: ["attn.q", "attn.k", "attn.v", "attn.o", "mlp.up", "mlp.down"],
                     doc: "BERT style encoder: bidirectional attention, LayerNorm, GELU MLP, pooled sentence embeddings"),
    ]

    public static func named(_ name: String) -> Architecture? { all.first { $0.name == name } }
}

/// An evaluation metric and the kinds of model and data it reads.
public struct Metric: Sendable {
    public enum Subject: String, Sendable { case languageModel = "language model", classifier, reward = "reward model", rag = "RAG pipeline", continual = "continual model" }

    public var name: String
    public var subject: Subject
    public var formats: [DataFormat]
    public var doc: String

    public static let all: [Metric] = [
        Metric(name: "loss", subject: .languageModel, formats: DataFormat.languageModeling, doc: "mean token cross-entropy (nats)"),
        Metric(name: "perplexity", subject: .languageModel, formats: DataFormat.languageModeling, doc: "exp(loss)"),
        Metric(name: "exact_match", subject: .languageModel, formats: [.instruction, .queries], doc: "greedy generation equals the reference answer"),
        Metric(name: "contains", subject: .languageModel, formats: [.instruction, .queries],
               doc: "the reference answer appears in the greedy generation (case-insensitive): for chat models that answer in sentences"),
        Metric(name: "answer_check", subject: .languageModel, formats: [.instruction, .queries],
               doc: "the generation is right as a value: JSON compared parsed, numbers and number lists by value, other text ignoring case, spacing and final punctuation"),
        Metric(name: "final_number", subject: .languageModel, formats: [.instruction, .queries],
               doc: "the generation's last number equals the reference, a number: the answer read out of reasoning, as lm-eval's flexible extraction for GSM8K takes the last number; a reference that is not one number never passes"),
        Metric(name: "accuracy", subject: .classifier, formats: [.classification], doc: "fraction of labels predicted right"),
        Metric(name: "macro_f1", subject: .classifier, formats: [.classification], doc: "F1 averaged over labels"),
        Metric(name: "recall_at_k", subject: .rag, formats: [.queries], doc: "the share of a question's relevant documents among the first k retrieved (trec_eval's recall_k)"),
        Metric(name: "precision_at_k", subject: .rag, formats: [.queries], doc: "the share of the first k retrieved documents that are relevant (trec_eval's P_k)"),
        Metric(name: "ndcg_at_k", subject: .rag, formats: [.queries], doc: "normalised discounted cumulative gain of the first k retrieved, linear gain (trec_eval's ndcg_cut_k)"),
        Metric(name: "mrr", subject: .rag, formats: [.queries], doc: "reciprocal rank of the first relevant document within the first k retrieved, 0 when none is (BEIR's MRR@k)"),
        Metric(name: "rag_exact_match", subject: .rag, formats: [.queries], doc: "the answer generated with retrieved context equals the reference"),
        Metric(name: "rag_contains", subject: .rag, formats: [.queries], doc: "the answer generated with retrieved context contains the reference (case and spacing aside), as `contains`"),
        Metric(name: "gold_exact_match", subject: .rag, formats: [.queries], doc: "the answer generated with the question's relevant documents as the context (the upper bound of retrieval) equals the reference"),
        Metric(name: "gold_contains", subject: .rag, formats: [.queries], doc: "the answer generated with the question's relevant documents as the context contains the reference"),
        Metric(name: "reward_accuracy", subject: .reward, formats: [.preference], doc: "the reward model scores `chosen` above `rejected`"),
        Metric(name: "win_rate", subject: .languageModel, formats: [.instruction, .preference, .queries],
               doc: "how often the `reward` model scores this model's greedy answer above the `baseline` model's (ties count half); with reference answers also `win_rate_rule` (judged by `answer_check`) and `judge_agreement` (how often the reward model sides with the rule where the rule separates the two)"),
        Metric(name: "forgetting", subject: .continual, formats: DataFormat.languageModeling,
               doc: "the continual-learning matrix: exact match on each task's held-out set (`tasks`) after every stage, with ACC, BWT, FWT and forgetting"),
    ]

    public static func named(_ name: String) -> Metric? { all.first { $0.name == name } }

    /// Metrics that score generated answers: only they read `max_tokens`.
    public static let generating: Set<String> = ["exact_match", "contains", "answer_check", "final_number", "rag_exact_match", "rag_contains", "gold_exact_match", "gold_contains", "win_rate", "forgetting"]

    /// Eval settings that only some metrics read, and which: set without one, they are refused;
    /// left to their default, the planner leaves them out of the eval's parameters.
    public static let settingsByMetric: [(key: String, metrics: Set<String>)] = [
        ("max_tokens", generating), ("k", ["recall_at_k", "precision_at_k", "ndcg_at_k", "mrr"]),
        ("ignore_identical_ids", ["recall_at_k", "precision_at_k", "ndcg_at_k", "mrr"]),
    ]
}
