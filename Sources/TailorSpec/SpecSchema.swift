/// The spec language, version 1: every key, its type, default and meaning.
public enum SpecSchema {
    public static let version = 1

    public static let root = ObjectSchema(
        "spec", doc: "An experiment: named datasets, tokenizers, models, prompts, RAG pipelines, evals and exports.",
        fields: [
            Field("tailor", .int(min: 1, max: nil), required: true, "spec language version; write `tailor: 1`"),
            Field("name", .identifier, required: true, "experiment name; names the run folder"),
            Field("description", .string, "free text shown in plans and reports"),
            Field("seed", .int(min: 0, max: nil), default: .int(0), "seed of every random choice (data generation, splits, initialisation, data order, sampling)"),
            Field("extends", .path, "another spec this one starts from; mappings are merged key by key, this spec winning, lists replaced whole"),
            Field("vars", .dict(.anyOf([.string, .number(min: nil, max: nil, minExclusive: false), .bool]), keyKind: "variable names"),
                  "values substituted for `${name}` in any scalar of the spec"),
            Field("sweep", .dict(.list(.anyOf([.string, .number(min: nil, max: nil, minExclusive: false), .bool]), minCount: 1), keyKind: "key paths"),
                  "a grid: each key path (e.g. `models.tuned.lora.rank`) takes each listed value; variants share every node that does not differ"),
            Field("data", .dict(.object(data), keyKind: "dataset names"), "datasets: generated, loaded from files, or derived"),
            Field("tokenizers", .dict(.object(tokenizer), keyKind: "tokenizer names"), "tokenizers: trained on a dataset or loaded"),
            Field("models", .dict(.object(ModelSchema.model), keyKind: "model names"), "models: built, pretrained, loaded, or derived from another model by one customization"),
            Field("prompts", .dict(.object(prompt), keyKind: "prompt names"), "prompt templates, few-shot examples and chain-of-thought"),
            Field("rag", .dict(.object(EvalSchema.rag), keyKind: "pipeline names"), "retrieval-augmented generation pipelines"),
            Field("evals", .dict(.object(EvalSchema.eval), keyKind: "eval names"), "evaluations of models or RAG pipelines on datasets"),
            Field("exports", .dict(.object(EvalSchema.export), keyKind: "export names"), "models written out as files"),
            Field("serve", .object(EvalSchema.serve), "an OpenAI-compatible API serving some of the models"),
        ])

    // MARK: data

    static let split = SchemaType.dict(.number(min: 0, max: 1, minExclusive: true), keyKind: "split names")

    public static let data = ObjectSchema(
        "dataset", doc: "One dataset. Exactly one source: `generate`, `file`, `folder`, `from`, `mix` or `command`.",
        fields: [
            Field("generate", .choice(Generator.all.map(\.name)), "a built-in generator (see Generators)"),
            Field("count", .int(min: 1, max: 100_000_000), "number of records to generate, or to draw when mixing"),
            Field("options", .object(Generator.allOptions), "generator options; each generator takes its own (see Generators)"),
            Field("file", .path, "a JSONL, CSV or plain-text file"),
            Field("folder", .path, "a folder of `.txt` / `.md` documents, one record per file"),
            Field("command", .object(command), "the user's own preparation script"),
            Field("format", .choice(DataFormat.allCases.map(\.rawValue) + RecordLayout.allCases.map(\.rawValue)),
                  "record format of a `file`, `folder` or `command` source, or the layout of another tool's file read into one (`alpaca`: instruction records, `sharegpt`: chat records; see Data formats); `.txt` files default to `text`, folders to `documents`"),
            Field("fields", .dict(.string, keyKind: "format fields"),
                  "maps the format's (or layout's) field names to the file's, e.g. `{ prompt: question, response: answer }`"),
            Field("qrels", .path,
                  "relevance judgements for a `queries` file: TREC qrels (`qid 0 docid grade`) or BEIR's `qrels/<split>.tsv` (`query-id corpus-id score`, its header skipped); each question (matched by `id`) gets its judged documents as `relevant`, and only judged questions are kept, as BEIR keeps a split's"),
            Field("from", .reference(.data), "the dataset this one derives from, with `split`, `filter`, `template`, `take`, `sample` or `label`"),
            Field("split", split, "deterministic random split into named parts whose fractions sum to 1; refer to a part as `name.part`"),
            Field("filter", .object(filter), "keep the records that pass"),
            Field("template", .reference(.prompt), "render each record through a prompt, giving instruction records"),
            Field("take", .int(min: 1, max: nil), "keep the first N records"),
            Field("sample", .object(sample), "a model's own answers to each prompt of the `from` dataset (instruction records)"),
            Field("label", .object(label), "preference pairs from the sampled answers of the `from` dataset (a `sample` dataset), judged by a rule"),
            Field("mix", .list(.object(mixPart), minCount: 2), "weighted mixture of datasets of one format"),
        ],
        rules: [
            .exactlyOne(["generate", "file", "folder", "from", "mix", "command"]),
            .exactlyOne(["split", "filter", "template", "take", "sample", "label"], when: "from"),
            .needs("split", oneOf: ["from"]), .needs("filter", oneOf: ["from"]),
            .needs("template", oneOf: ["from"]), .needs("take", oneOf: ["from"]), .needs("qrels", oneOf: ["file"]),
            .needs("sample", oneOf: ["from"]), .needs("label", oneOf: ["from"]),
            .needs("count", oneOf: ["generate", "mix"]),
            .needs("options", oneOf: ["generate"]),
            .needs("format", oneOf: ["file", "folder", "command"]),
            .needs("fields", oneOf: ["file", "command"]),
        ])

    static let filter = ObjectSchema(
        "filter", doc: "Record filters; all given conditions must hold.",
        fields: [
            Field("min_chars", .int(min: 0, max: nil), "drop records shorter than this many characters"),
            Field("max_chars", .int(min: 1, max: nil), "drop records longer than this many characters"),
            Field("contains", .string, "keep only records containing this text"),
            Field("dedupe", .bool, default: .bool(false), "drop exact duplicate records"),
        ])

    static let sample = ObjectSchema(
        "sample", doc: """
            Answers a model writes itself, `n` to each prompt of the `from` dataset (instruction records), drawn with the spec's \
            seed: one record per answer, with the prompt, the sampled `response`, the source's own answer as `reference` and the \
            answer's number as `sample`. Train on them (rejection sampling), or turn them into preference pairs with `label`.
            """,
        fields: [
            Field("model", .reference(.model), required: true, "the model that answers"),
            Field("prompt", .reference(.prompt), "the prompt each record is asked through, as an eval asks it; without one, the record's prompt as it is"),
            Field("n", .int(min: 2, max: 64), default: .int(4), "answers per prompt"),
            Field("temperature", .number(min: 0, max: nil, minExclusive: true), default: .number(1), "sampling temperature"),
            Field("top_p", .number(min: 0, max: 1, minExclusive: true), default: .number(1),
                  "sample from the smallest set of tokens whose probability reaches this"),
            Field("max_tokens", .int(min: 1, max: 4096), required: true, "the most tokens an answer may have"),
        ])

    static let label = ObjectSchema(
        "label", doc: """
            Preference pairs from sampled answers: for each prompt, its first answer that passes the rule is chosen and its first \
            that fails is rejected. A prompt whose answers all pass or all fail gives no pair, and empty answers take no side; \
            the node reports both counts.
            """,
        fields: [
            Field("rule", .choice(["answer_check", "exact_match", "contains"]),
                  "an answer passes when it matches the source's answer (`reference`) as the eval metric of that name scores it"),
            Field("pattern", .string, "an answer passes when this regular expression (ICU syntax) matches somewhere in it"),
        ],
        rules: [.exactlyOne(["rule", "pattern"])])

    static let mixPart = ObjectSchema(
        "mix part", doc: "One dataset of a mixture.",
        fields: [
            Field("from", .reference(.data), required: true, "the dataset"),
            Field("weight", .number(min: 0, max: nil, minExclusive: true), default: .number(1), "relative share of the mixture"),
        ])

    static let command = ObjectSchema(
        "command", doc: "Runs the user's own program; keyed by the command line and the digests of its inputs.",
        fields: [
            Field("run", .list(.string, minCount: 1), required: true, "program and arguments, e.g. `[python3, prep.py, raw.txt, out.jsonl]`"),
            Field("inputs", .list(.path, minCount: 0), default: .list([]), "files the command reads; their contents are part of the key"),
            Field("needs", .list(.reference(.data), minCount: 0), default: .list([]),
                  "datasets the command reads: another command's output file at its own `output` path, any other dataset as `NAME.jsonl`"),
            Field("params", .dict(.string, keyKind: "parameter name"),
                  "values the command reads from environment variables `TAILOR_PARAM_<NAME>`; part of the key"),
            Field("output", .path, required: true, "the file the command writes, read as this dataset"),
            Field("shell", .bool, default: .bool(false), "run through `/bin/sh -c` (the `run` list is joined with spaces)"),
        ])

    // MARK: tokenizers

    public static let tokenizer = ObjectSchema(
        "tokenizer", doc: "A tokenizer. Exactly one of `train`, `load` or `bytes`.",
        fields: [
            Field("train", .object(tokenizerTraining), "train byte-level BPE on a dataset"),
            Field("load", .path, "a Hugging Face `tokenizer.json` or a `.gguf` file"),
            Field("bytes", .bool, "one token per byte (256 tokens plus specials); no training"),
            Field("special", .list(.string, minCount: 0), default: .list([]), "extra special tokens, e.g. `[\"<|im_start|>\", \"<|im_end|>\"]` (`train` and `bytes`; a loaded tokenizer keeps its file's)"),
        ],
        rules: [.exactlyOne(["train", "load", "bytes"])])

    static let tokenizerTraining = ObjectSchema(
        "tokenizer training", doc: "Byte-level BPE training.",
        fields: [
            Field("from", .reference(.data), required: true, "the dataset to learn merges from"),
            Field("vocab", .int(min: 257, max: 1_000_000), required: true, "vocabulary size including the 256 byte tokens and specials"),
            Field("min_frequency", .int(min: 1, max: nil), default: .int(2), "ignore pairs seen fewer times"),
        ])

    // MARK: prompts

    public static let prompt = ObjectSchema(
        "prompt", doc: "A prompt template. Placeholders `{field}` name fields of the dataset it is applied to (and `{context}` in RAG).",
        fields: [
            Field("template", .string, required: true, "the text, e.g. `\"Q: {prompt}\\nA:\"`"),
            Field("system", .string, "system message for chat models"),
            Field("style", .choice(["plain", "chatml"]), default: .string("plain"), "how the prompt is wrapped for the model"),
            Field("few_shot", .object(fewShot), "examples placed before the prompt"),
            Field("chain_of_thought", .anyOf([.bool, .string]), default: .bool(false),
                  "ask for reasoning before the answer: `true` adds \"Let's think step by step.\", a string adds that text"),
        ])

    static let fewShot = ObjectSchema(
        "few-shot", doc: "Few-shot example selection.",
        fields: [
            Field("from", .reference(.data), required: true, "dataset the examples come from"),
            Field("k", .int(min: 1, max: 64), default: .int(3), "number of examples"),
            Field("select", .choice(["random", "similar"]), default: .string("random"), "random (seeded) or most similar to the query"),
            Field("embed", .reference(.model),
                  "an encoder (e.g. MiniLM): `similar` picks the examples nearest the query by the cosine of its sentence embeddings (KATE); without it, by shared words"),
            Field("closest", .choice(["first", "last"]), default: .string("first"),
                  "where `similar` puts the most similar example: first, or last, next to the query (KATE's reversed order)"),
        ])
}
