import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorRetrieval
import TailorRuntime

/// An encoder artifact as sentence embeddings: mean-pooled hidden states, unit length for
/// cosine search. A text's vector depends on that text alone (`Bert.embeddings`), so vectors
/// can be reused across indexes and the order or company a text comes in changes no bit.
struct Encoder {
    let bert: Bert, tokenizer: TextTokenizer, normalize: Bool
    var dimension: Int { bert.config.width }

    init(_ artifact: Artifact, normalize: Bool) throws {
        guard case let (.encoder(bert), tokenizer) = try HeadRunners.loadBackbone(artifact) else { throw ExecutionError.notAnEncoder(artifact.key) }
        (self.bert, self.tokenizer, self.normalize) = (bert, tokenizer, normalize)
    }

    /// One vector per text, in the texts' order, `progress` told how many are done after each
    /// 256. Texts longer than the encoder's window (or sentence-transformers' 256 tokens) are
    /// cut, as sentence-transformers cuts them.
    func embed(_ texts: [String], progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) -> [[Float]] {
        let limit = Swift.min(bert.config.maxPositions, 256)
        let ids = texts.map { tokenizer.classificationIDs($0, limit: limit) }
        // By length, so a part's texts share lengths and run in full batches without padding.
        let order = ids.indices.sorted { (ids[$0].count, $0) < (ids[$1].count, $1) }
        var out = [[Float]](repeating: [], count: texts.count)
        for start in stride(from: 0, to: order.count, by: 256) {
            let part = order[start..<Swift.min(order.count, start + 256)]
            for (i, v) in zip(part, bert.embeddings(part.map { ids[$0] }, normalize: normalize)) { out[i] = v }
            progress(start + part.count, texts.count)
        }
        return out
    }

    /// `progress` for `embed` that reports through a node's context.
    static func reporting(_ ctx: NodeContext, _ what: String) -> (Int, Int) -> Void {
        let began = Date()
        return { done, total in ctx.progress("\(what): \(done)/\(total)", done: done, total: total, since: began) }
    }
}

/// Search over an index artifact with the encoder that built it, for `eval.rag` and
/// `tailor retrieve`. Passages rank by score, ties by their order in the index; a document
/// ranks by its best passage, in trec_eval's order (`RankedList`). An exact index scores every
/// passage and ranks every document; an HNSW graph finds the best `max(passages, depth)`
/// passages and ranks the documents among them.
public struct Retriever {
    let index: RAGRunners.LoadedIndex, encoder: Encoder
    var chunks: [Chunk] { index.chunks }
    /// The documents, in index order, and each passage's document among them.
    let documents: [String], documentOf: [Int]

    public init(index: Artifact, encoder: Artifact) throws {
        self.index = try RAGRunners.loadIndex(index)
        self.encoder = try Encoder(encoder, normalize: self.index.flat.metric == .cosine)
        guard self.encoder.dimension == self.index.flat.dimension else { throw ExecutionError.unreadableIndex(index.key) }
        var numbers: [String: Int] = [:], documents: [String] = []
        documentOf = self.index.chunks.map { c in
            if let d = numbers[c.document] { return d }
            numbers[c.document] = documents.count
            documents.append(c.document)
            return documents.count - 1
        }
        self.documents = documents
    }

    /// Each question's first `passages` passages and its documents ranked: every document, or
    /// with a graph those of its best `max(passages, depth)` passages.
    public func search(_ questions: [(id: String, text: String)], passages: Int, depth: Int,
                       progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) -> [(passages: [Chunk], documents: RankedList)] {
        let vectors = encoder.embed(questions.map(\.text), progress: progress)
        if let graph = index.graph {
            let n = Swift.max(passages, depth), searcher = HNSWIndex.Searcher(for: graph)
            return zip(questions, vectors).map { question, vector in
                let found = graph.search(vector, k: n, ef: Swift.max(index.efSearch, n), using: searcher)
                var best: [Int: Float] = [:]
                for f in found where best[documentOf[f.index]] == nil { best[documentOf[f.index]] = f.score }  // found best first
                return (found.prefix(passages).map { chunks[$0.index] },
                        RankedList(query: question.id, scores: best.map { (documents[$0.key], $0.value) }))
            }
        }
        let count = chunks.count
        // 64 questions at a time: a (64, N) block of scores, never one of every question.
        return stride(from: 0, to: questions.count, by: 64).flatMap { start in
            let block = start..<Swift.min(questions.count, start + 64)
            let scores = index.flat.scores(Array(vectors[block]))  // (B, N)
            return block.map { qi in
                let row = scores[((qi - start) * count)..<((qi - start + 1) * count)]
                var best = [Float](repeating: -.infinity, count: documents.count)
                for (j, score) in zip(0..., row) { best[documentOf[j]] = Swift.max(best[documentOf[j]], score) }
                return (FlatIndex.top(passages, of: row).map { chunks[$0] }, RankedList(query: questions[qi].id, scores: Array(zip(documents, best))))
            }
        }
    }
}

extension RAGRunners {
    /// Every question embedded and searched against the index. Passages rank by score (ties by
    /// their order in the index); documents by their best passage's score, in trec_eval's
    /// order, written as a TREC run (`run.trec`) and scored against each question's
    /// `relevant` documents (`qrels.txt`). With a generator, each question is answered from its
    /// `top_k` passages through the pipeline's prompt (`{context}`, the passages in rank order,
    /// a blank line apart), or from its relevant documents whole (`gold_…`, the upper bound of
    /// retrieval), and the answer scored against the reference.
    static func evaluate(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(EvalRAGParameters.self)
        let retriever = try Retriever(index: try ctx.input(.index).artifact, encoder: try ctx.input(.encoder).artifact)
        let dataInput = try ctx.input(.evalData)
        let records = try ctx.evaluated(dataInput, p.scope).records
        let source = dataInput.input.display
        var questions: [String] = [], ids: [String] = [], judged: [String: [String: Int]] = [:]
        for (i, r) in records.enumerated() {
            guard let q = r["question"] as? String else { throw ExecutionError.noTextField(source, record: i + 1, "question") }
            let id = try recordID(r, index: i, prefix: "q", source: source)
            guard !ids.contains(id) else { throw ExecutionError.duplicateQuestion(source, id) }
            questions.append(q)
            ids.append(id)
            // A question without relevant documents is unjudged: trec_eval leaves it out, and so do the means.
            // A list of relevant ids (each grade 1), or graded judgements {id: grade} as in qrels.
            guard let relevant = r["relevant"] else { continue }
            let grades: [String: Int]
            if let list = relevant as? [Any] {
                let docs = list.compactMap { ($0 as? String) ?? ($0 as? Int).map(String.init) }
                guard docs.count == list.count else { throw ExecutionError.badRelevant(source, record: i + 1) }
                grades = Dictionary(docs.map { ($0, 1) }, uniquingKeysWith: { a, _ in a })
            } else if let graded = relevant as? [String: Any] {
                grades = try graded.mapValues { g in
                    guard let n = g as? Int else { throw ExecutionError.badRelevant(source, record: i + 1) }
                    return n
                }
            } else {
                throw ExecutionError.badRelevant(source, record: i + 1)
            }
            if !grades.isEmpty { judged[id] = grades }
        }
        let depth = Swift.max(100, p.k ?? 0)
        let found = retriever.search(Array(zip(ids, questions)), passages: p.topK ?? 0, depth: depth, progress: Encoder.reporting(ctx, "embedding questions"))
        // BEIR leaves a question's own id out of its ranking (corpora such as Quora's hold the
        // questions themselves); the passages an answer reads are left as found.
        let contexts = found.map(\.passages)
        let lists = found.map { f in
            p.ignoreIdenticalIDs ? RankedList(query: f.documents.query, scores: f.documents.documents.filter { $0.id != f.documents.query }) : f.documents
        }
        let run = lists.map { $0.trecLines(tag: "tailor", depth: depth) }.joined()
        try run.write(toFile: ctx.out("run.trec"), atomically: false, encoding: .utf8)
        let qrelLines = judged.sorted { $0.key < $1.key }.flatMap { q, docs in docs.sorted { $0.key < $1.key }.map { "\(q) 0 \($0.key) \($0.value)\n" } }
        try qrelLines.joined().write(toFile: ctx.out("qrels.txt"), atomically: false, encoding: .utf8)

        // The report's row names the pipeline (`rag.NAME`, its index node less `.index`).
        let pipeline = String(try ctx.input(.index).input.node.dropLast(".index".count))
        var result: [String: Any] = ["model": pipeline, "data": source, "examples": records.count]
        if let topK = p.topK { result["top_k"] = topK }
        let metrics = p.scope.metrics
        if let k = p.k {
            // Each judged question's scores: their means are the metrics, their spread the intervals.
            let scored = RetrievalScores.judged(lists, Qrels(judged), k: k)
            result["k"] = k
            result["judged_questions"] = scored.count
            for (metric, value) in [("recall_at_k", \RetrievalScores.recall), ("precision_at_k", \.precision), ("ndcg_at_k", \.ndcg), ("mrr", \.reciprocalRank)]
            where metrics.contains(metric) { EvalRunners.score(metric, scored.map { $0[keyPath: value] }, into: &result) }
        }
        let rag = metrics.contains("rag_exact_match") || metrics.contains("rag_contains")
        let gold = metrics.contains("gold_exact_match") || metrics.contains("gold_contains")
        if rag || gold {
            guard let maxTokens = p.maxTokens else { throw ParameterError(path: "max_tokens") }
            if let i = records.firstIndex(where: { !($0["answer"] is String) }) { throw ExecutionError.noAnswer(source, record: i + 1) }
            let generator = try ctx.input(.generator)
            guard let prompt = try PromptRunners.load(ctx) else { throw ExecutionError.noInput(.prompt) }
            let (model, tokenizer) = try ModelRunners.loadForEvaluation(generator.artifact)
            /// Each question answered from its context; how many answers equal the reference and
            /// how many contain it, and the first few answers.
            func answered(_ context: [String], _ what: String) throws -> (exact: [Double], contains: [Double], samples: [[String: String]]) {
                let withContext: [[String: Any]] = zip(records, context).map { r, c in
                    var r = r
                    r["context"] = c
                    return r
                }
                let examples = try EvalRunners.examples(withContext, for: generator.artifact, model, tokenizer, prompt: prompt, source: source)
                let answers = try Tensor.noGrad { try EvalRunners.answers(examples, model, tokenizer, maxTokens: maxTokens, ctx, what) }
                var exact: [Double] = [], contained: [Double] = [], samples: [[String: String]] = []
                for (i, (row, answer)) in zip(examples, answers).enumerated() {
                    exact.append(AnswerCheck.passes("exact_match", answer, row.text) ? 1 : 0)
                    contained.append(AnswerCheck.passes("contains", answer, row.text) ? 1 : 0)
                    if samples.count < 5 {
                        samples.append(["question": questions[i], "expected": row.text, "generated": answer.trimmingCharacters(in: .whitespacesAndNewlines)])
                    }
                }
                return (exact, contained, samples)
            }
            if rag {
                let (exact, contained, samples) = try answered(contexts.map { $0.map(\.text).joined(separator: "\n\n") }, "answering from retrieved passages")
                if metrics.contains("rag_exact_match") { EvalRunners.score("rag_exact_match", exact, into: &result) }
                if metrics.contains("rag_contains") { EvalRunners.score("rag_contains", contained, into: &result) }
                result["samples"] = zip(samples, contexts).map { s, passages in s.merging(["retrieved": passages.map(\.id).joined(separator: " ")]) { a, _ in a } }
            }
            if gold {
                // The upper bound of retrieval: the question's relevant documents, whole, in id order.
                let texts = try documentTexts(try ctx.input(.index).artifact)
                let context = ids.map { id in (judged[id] ?? [:]).keys.sorted().compactMap { texts[$0] }.joined(separator: "\n\n") }
                let (exact, contained, samples) = try answered(context, "answering from the relevant documents")
                if metrics.contains("gold_exact_match") { EvalRunners.score("gold_exact_match", exact, into: &result) }
                if metrics.contains("gold_contains") { EvalRunners.score("gold_contains", contained, into: &result) }
                result["gold_samples"] = samples
            }
            result["generator"] = generator.input.node
        }
        try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted]).write(to: URL(fileURLWithPath: ctx.out("metrics.json")))
    }
}
