import Foundation
import TailorModels
import TailorRuntime

/// Sentence-embedding throughput of all-MiniLM-L6-v2 against sentence-transformers
/// (docs/bench/embed_sentence_transformers.py, run on the same texts in the same run): the
/// texts of `EMBED_TEXTS` (JSONL, a `text` a line) tokenized, cut at 256 tokens, embedded
/// (mean-pooled, unit length) as `rag.index` embeds passages, in groups of one length.
/// One untimed call on the first 64 texts, then 3 timed calls over all; `EMBED_COMPARE` (the
/// script's `--out` file) gives the largest difference from its vectors. Prints one JSON object.
enum EmbedBench {
    static func run() {
        let env = ProcessInfo.processInfo.environment
        let path = env["EMBED_TEXTS"] ?? "/tmp/passages.jsonl"
        let model = env["EMBED_MODEL"] ?? "models/all-MiniLM-L6-v2"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            print("no \(path): run docs/bench/embed_sentence_transformers.py --make-sample \(path) first")
            exit(1)
        }
        let texts = text.split(separator: "\n").compactMap { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["text"] as? String
        }
        var t0 = Bench.now()
        guard let (bert, tokenizer) = try? LoadedModel.open(model).encoder() else {
            print("cannot load \(model): run `make models`")
            exit(1)
        }
        let load = Bench.now() - t0
        func embed(_ batch: [String]) -> [[Float]] { bert.embeddings(batch.map { tokenizer.encode($0, maxLength: 256) }) }
        _ = embed(Array(texts.prefix(64)))
        var runs: [Double] = [], vectors: [[Float]] = []
        for _ in 0..<3 {
            t0 = Bench.now()
            vectors = embed(texts)
            runs.append(Bench.now() - t0)
        }
        let tokens = texts.map { tokenizer.encode($0, maxLength: 256).count }
        var result: [String: Any] = [
            "texts": texts.count, "load_s": load, "run_s": runs, "chunks_per_s": runs.map { Double(texts.count) / $0 },
            "median_chunks_per_s": Double(texts.count) / Bench.median(runs), "mean_tokens": Double(tokens.reduce(0, +)) / Double(texts.count),
            "threads": Parallel.threads, "peak_rss_mb": Bench.peakRSS(),
        ]
        if let compare = env["EMBED_COMPARE"], let data = FileManager.default.contents(atPath: compare), data.count == texts.count * 384 * 4 {
            let theirs = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            result["max_abs_diff_vs_reference"] = zip(vectors.flatMap { $0 }, theirs).map { abs($0 - $1) }.max() ?? 0
        }
        let json = try! JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
