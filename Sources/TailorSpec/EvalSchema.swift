/// The `rag:`, `evals:`, `exports:` and `serve:` sections.
public enum EvalSchema {
    public static let rag = ObjectSchema(
        "rag", doc: "Documents → chunks → embeddings → index → top-k retrieval → generation with a prompt.",
        fields: [
            Field("documents", .reference(.data), required: true, "a `documents` dataset"),
            Field("chunk", .object(chunk), "how documents are cut into passages"),
            Field("embed", .reference(.model), required: true, "an encoder model (e.g. `arch: bert`) that embeds passages and questions"),
            Field("metric", .choice(["cosine", "dot", "l2"]), default: .string("cosine"), "similarity of the index"),
            Field("hnsw", .object(hnsw), "search an approximate HNSW graph instead of every vector (for large corpora)"),
            Field("top_k", .int(min: 1, max: 1000), default: .int(4), "passages retrieved per question"),
            Field("generator", .reference(.model), "a language model answering from the retrieved passages; omit for retrieval only"),
            Field("prompt", .reference(.prompt), "the generation prompt; must use `{context}` and `{question}`"),
        ],
        rules: [.needs("prompt", oneOf: ["generator"]), .needs("top_k", oneOf: ["generator"])])

    static let hnsw = ObjectSchema(
        "hnsw", doc: "An approximate index: a hierarchical navigable small-world graph over the passages' vectors (FAISS's `IndexHNSWFlat` knobs).",
        fields: [
            Field("m", .int(min: 2, max: 256), default: .int(32), "links per node on the upper layers (twice as many on the bottom one); more is slower to build and finds more"),
            Field("ef_construction", .int(min: 1, max: 10_000), default: .int(200), "candidates kept while linking a new node; more builds a better graph, slower"),
            Field("ef_search", .int(min: 1, max: 10_000), default: .int(128), "candidates kept while searching (at least the passages a question needs); more finds more, slower"),
        ])

    static let chunk = ObjectSchema(
        "chunk", doc: "Chunking of documents.",
        fields: [
            Field("size", .int(min: 1, max: 1_000_000), default: .int(200), "passage length"),
            Field("overlap", .int(min: 0, max: 1_000_000), default: .int(20), "shared length of neighbouring passages; less than `size`"),
            Field("unit", .choice(["words", "sentences", "chars", "tokens"]), default: .string("words"),
                  "what `size` counts: words (runs of non-space), sentences (ending in `.`, `!` or `?` before a space), characters, or tokens of the `embed` model's tokenizer (passages cut between words)"),
        ])

    public static let eval = ObjectSchema(
        "eval", doc: "Scores models (or a RAG pipeline) on one dataset. Exactly one of `models` or `rag`.",
        fields: [
            Field("models", .list(.reference(.model), minCount: 1), "the models compared side by side"),
            Field("rag", .reference(.rag), "a RAG pipeline to score"),
            Field("data", .reference(.data), "the evaluation dataset; with `forgetting`, a general set no stage trains on, the matrix's last column (optional there)"),
            Field("metrics", .list(.choice(Metric.all.map(\.name)), minCount: 1), required: true, "what to measure (see Metrics)"),
            Field("prompt", .reference(.prompt), "prompt applied to each record before generation"),
            Field("limit", .int(min: 1, max: nil), "score only the first N records"),
            Field("repeats", .int(min: 2, max: 100),
                  "score each model this many times, the prompt's random few-shot examples drawn anew each time (seeded by the repeat, each its own cached node); the report shows every repeat and their mean with its range"),
            Field("max_tokens", .int(min: 1, max: 65_536), default: .int(32), "longest generated answer; only with a metric that generates (`exact_match`, `contains`, `answer_check`, `final_number`, `rag_exact_match`, `rag_contains`, `gold_exact_match`, `gold_contains`, `win_rate`)"),
            Field("k", .int(min: 1, max: 1000), default: .int(5), "the cutoff of `recall_at_k`, `precision_at_k`, `ndcg_at_k` and `mrr`; only with one of them"),
            Field("ignore_identical_ids", .bool, default: .bool(true),
                  "leave a document whose id equals the question's out of its ranking, as BEIR's evaluation does by default (its corpora repeat some queries as documents); only with a retrieval metric"),
            Field("reward", .reference(.model), "reward model that judges `win_rate`"),
            Field("baseline", .reference(.model), "the model `win_rate` compares against"),
            Field("tasks", .list(.reference(.data), minCount: 1),
                  "the held-out set of each task of the `forgetting` matrix, in training order (the matrix's columns; `data`, a general set no stage trains on, is the last); only with that metric"),
        ],
        rules: [.exactlyOne(["models", "rag"]), .needs("prompt", oneOf: ["models"]), .needs("reward", oneOf: ["models"]), .needs("baseline", oneOf: ["models"]), .needs("tasks", oneOf: ["models"]), .needs("repeats", oneOf: ["prompt"])])

    public static let export = ObjectSchema(
        "export", doc: "Writes a model to files under the run folder.",
        fields: [
            Field("model", .reference(.model), required: true, "the model to write"),
            Field("format", .choice(["hf", "peft", "gguf"]), default: .string("hf"),
                  "`hf`: a Hugging Face folder (config.json + model.safetensors + tokenizer.json); `peft`: the LoRA adapter alone; `gguf`: one GGUF file"),
            Field("merge", .bool, default: .bool(false), "fold LoRA adapters into the base weights first (`hf` only)"),
            Field("dtype", .choice(["f32", "f16", "bf16"]), default: .string("f32"), "tensor type of the written weights (`hf`; a `peft` adapter is f32)"),
        ])

    public static let serve = ObjectSchema(
        "serve", doc: "An OpenAI-compatible HTTP API (`/v1/models`, `/v1/completions`, `/v1/chat/completions`), started by `tailor serve SPEC` (docs/serve.md).",
        fields: [
            Field("models", .list(.reference(.model), minCount: 1), "decoders offered, each under its spec name (built first, from the cache when present); LoRA models of one base share its weights"),
            Field("rag", .list(.reference(.rag), minCount: 1), "RAG pipelines offered as models, each under its name: a question gets the pipeline's `top_k` passages and is answered by its `generator` through its `prompt`, as `eval.rag` answers"),
            Field("host", .string, default: .string("127.0.0.1"), "listen address (`--host` overrides it)"),
            Field("port", .int(min: 1, max: 65_535), default: .int(8080), "listen port (`--port` overrides it)"),
            Field("max_tokens", .int(min: 1, max: 65_536), default: .int(256), "the most tokens a request may ask for, and what one that asks for none gets (`--max-tokens` overrides it)"),
        ],
        rules: [.atLeastOne(["models", "rag"])])
}
