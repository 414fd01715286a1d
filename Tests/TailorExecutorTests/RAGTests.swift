import Foundation
import TailorDiagnostics
@testable import TailorEngine
@testable import TailorExecutor
import TailorPlan
import TailorRetrieval
import TailorRuntime
import XCTest

/// Generated documents and questions, chunking, the index and eval.rag through the engine.
final class RAGTests: FolderTestCase {
    static let spec = """
        tailor: 1
        name: rag
        seed: 4
        data:
          docs: { generate: documents, count: 12, options: { facts: 3 } }
          questions: { generate: questions, count: 16, options: { documents: docs } }
        tokenizers:
          bytes: { bytes: true }
        models:
          encoder: { arch: bert, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
          reader: { arch: gpt2, size: { layers: 1, width: 16, heads: 2, context: 256 }, tokenizer: bytes }
        prompts:
          answer: { template: "{context}\\nQ: {question}\\nA:" }
        rag:
          facts: { documents: docs, chunk: { size: 1, overlap: 0, unit: sentences }, embed: encoder, top_k: 2, generator: reader, prompt: answer }
        evals:
          retrieval: { rag: facts, data: questions, metrics: [recall_at_k, precision_at_k, ndcg_at_k, mrr, rag_exact_match, gold_contains], k: 3, max_tokens: 4 }
        """

    /// Every node of the spec `file` in the test's folder, run into the folder's cache.
    func execute(_ file: String) throws -> [Executor.Outcome] { try executeReporting(file).outcomes }

    /// Every node of the spec `file`, run into `cache` (in the test's folder), and the lines of
    /// progress the index reported (how many passages it embedded, how it got its graph).
    func executeReporting(_ file: String, cache: String = ".tailor") throws -> (outcomes: [Executor.Outcome], indexSaid: [String]) {
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/" + file, diagnostics: &diagnostics), "\(diagnostics.items)")
        final class Lines: @unchecked Sendable { var lines: [String] = [] }  // events come one at a time
        let said = Lines()
        let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/" + cache)).run(plan.nodes) { event in
            if case let .progress(node, progress) = event, node.kind == .ragIndex { said.lines.append(progress.text) }
        }
        return (outcomes, said.lines)
    }

    func testDocumentsQuestionsIndexAndRetrievalScoredAsTrecEval() throws {
        try Self.spec.write(toFile: dir + "/rag.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/rag.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        XCTAssertTrue(Executor.notExecutable(plan.nodes).isEmpty, "\(Executor.notExecutable(plan.nodes))")
        let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/.tailor")).run(plan.nodes)
        func path(_ id: String, _ file: String) throws -> String { try XCTUnwrap(outcomes.first { $0.node.id == id }, id).artifact.path(file) }
        func lines(_ id: String, _ file: String) throws -> [String] {
            try String(contentsOfFile: try path(id, file), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        func json(_ line: String) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:] }

        // Every document a different person; every question's answer stated in its document.
        let docs = try lines("data.docs", "data.jsonl").map(json)
        XCTAssertEqual(Set(docs.compactMap { $0["title"] as? String }).count, 12)
        let text = Dictionary(uniqueKeysWithValues: docs.map { ($0["id"] as! String, $0["text"] as! String) })
        for q in try lines("data.questions", "data.jsonl").map(json) {
            let relevant = try XCTUnwrap(q["relevant"] as? [String])
            XCTAssertTrue(try XCTUnwrap(text[relevant[0]]).contains(q["answer"] as! String), "\(q)")
        }
        // One passage per sentence: three facts, three passages a document.
        let chunks = try lines("rag.facts.chunks", "chunks.jsonl").map(json)
        XCTAssertEqual(chunks.count, 36)
        XCTAssertEqual(chunks.first?["id"] as? String, "doc-00000#0")
        let vectors = try FileManager.default.attributesOfItem(atPath: try path("rag.facts.index", "vectors.f32"))[.size] as? Int
        XCTAssertEqual(vectors, 36 * 16 * 4)

        // The run file: every question ranks all 12 documents in trec_eval's order, and the
        // metrics are what that file and the qrels give.
        let run = try lines("eval.retrieval.facts", "run.trec").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(run.count, 16 * 12)
        var byQuery: [String: [(id: String, score: Float)]] = [:]
        for fields in run {
            XCTAssertEqual(fields.count, 6)
            byQuery[fields[0], default: []].append((fields[2], Float(fields[4])!))
            XCTAssertEqual(Int(fields[3]), byQuery[fields[0]]!.count, "ranks count up")
        }
        var judged: [String: [String: Int]] = [:]
        for q in try lines("eval.retrieval.facts", "qrels.txt") {
            let f = q.split(separator: " ").map(String.init)
            judged[f[0], default: [:]][f[2]] = Int(f[3])
        }
        let lists = byQuery.map { RankedList(query: $0.key, scores: $0.value) }
        for list in lists { XCTAssertEqual(list.documents.map(\.id), byQuery[list.query]!.map(\.id), "the file is in trec_eval's order") }
        let scored = RetrievalScores.judged(lists, Qrels(judged), k: 3)
        XCTAssertEqual(scored.count, 16)
        func mean(_ metric: KeyPath<RetrievalScores, Double>) -> Double { scored.map { $0[keyPath: metric] }.reduce(0, +) / Double(scored.count) }
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try path("eval.retrieval.facts", "metrics.json")))) as! [String: Any]
        XCTAssertEqual(metrics["recall_at_k"] as! Double, mean(\.recall), accuracy: 1e-12)
        XCTAssertEqual(metrics["precision_at_k"] as! Double, mean(\.precision), accuracy: 1e-12)
        XCTAssertEqual(metrics["ndcg_at_k"] as! Double, mean(\.ndcg), accuracy: 1e-12)
        XCTAssertEqual(metrics["mrr"] as! Double, mean(\.reciprocalRank), accuracy: 1e-12)
        for metric in ["recall_at_k", "precision_at_k", "ndcg_at_k", "mrr", "rag_exact_match"] {
            let ci = try XCTUnwrap(metrics[metric + "_ci95"] as? [Double], metric)
            let value = try XCTUnwrap(metrics[metric] as? Double, metric)
            XCTAssertTrue(ci[0] <= value && value <= ci[1], metric)
        }
        XCTAssertEqual(metrics["model"] as? String, "rag.facts")
        // Answers were generated from two passages each.
        let exact = try XCTUnwrap(metrics["rag_exact_match"] as? Double)
        XCTAssertTrue((0...1).contains(exact))
        let samples = try XCTUnwrap(metrics["samples"] as? [[String: String]])
        XCTAssertEqual(samples.first?["retrieved"]?.split(separator: " ").count, 2)
        // The gold context: each question's relevant document, whole, kept by the index.
        XCTAssertEqual(try lines("rag.facts.index", "documents.jsonl").map(json).compactMap { $0["text"] as? String }, docs.map { $0["text"] as! String })
        XCTAssertTrue((0...1).contains(try XCTUnwrap(metrics["gold_contains"] as? Double)))
        XCTAssertNil(metrics["gold_exact_match"], "only the metrics asked for")
        XCTAssertEqual((metrics["gold_samples"] as? [[String: String]])?.count, 5)
    }

    /// The index, the run file and the answers are the same bits on one thread or two.
    func testBitIdenticalAcrossThreadCounts() throws {
        defer { Runtime.setThreads(ProcessInfo.processInfo.activeProcessorCount) }
        try Self.spec.write(toFile: dir + "/rag.yaml", atomically: true, encoding: .utf8)
        var diagnostics = DiagnosticBag()
        let plan = try XCTUnwrap(Compiler().plan(file: dir + "/rag.yaml", diagnostics: &diagnostics), "\(diagnostics.items)")
        var digests: [[String]] = []
        for threads in [1, 2] {
            Runtime.setThreads(threads)
            let outcomes = try Executor(plan: plan, store: try ArtifactStore(root: dir + "/cache-\(threads)")).run(plan.nodes)
            XCTAssertTrue(outcomes.allSatisfy { $0.status == .ran })
            digests.append(outcomes.map(\.artifact.digest))
        }
        XCTAssertEqual(digests[0], digests[1])
    }

    /// Questions from a file: graded judgements as qrels hold them, a list of ids, and a question
    /// with none (left out of the means); a `relevant` of another shape is a data error.
    func testGradedUnjudgedAndBadJudgements() throws {
        let questions = [
            #"{"id": "g", "question": "Where was she born?", "answer": "x", "relevant": {"doc-00001": 2, "doc-00002": 0}}"#,
            #"{"id": 7, "question": "Who keeps geese?", "answer": "x", "relevant": ["doc-00003"]}"#,
            #"{"question": "Who plays the cello?", "answer": "x"}"#,
        ]
        try questions.joined(separator: "\n").write(toFile: dir + "/questions.jsonl", atomically: true, encoding: .utf8)
        let spec = """
            tailor: 1
            name: graded
            seed: 4
            data:
              docs: { generate: documents, count: 6, options: { facts: 2 } }
              questions: { file: questions.jsonl, format: queries }
            tokenizers:
              bytes: { bytes: true }
            models:
              encoder: { arch: bert, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
            rag:
              facts: { documents: docs, embed: encoder }
            evals:
              retrieval: { rag: facts, data: questions, metrics: [ndcg_at_k, recall_at_k], k: 3 }
            """
        try spec.write(toFile: dir + "/graded.yaml", atomically: true, encoding: .utf8)
        func run() throws -> [Executor.Outcome] { try execute("graded.yaml") }
        let eval = try XCTUnwrap(try run().first { $0.node.id == "eval.retrieval.facts" })
        let qrels = try String(contentsOfFile: eval.artifact.path("qrels.txt"), encoding: .utf8)
        XCTAssertEqual(qrels, "7 0 doc-00003 1\ng 0 doc-00001 2\ng 0 doc-00002 0\n")
        let metrics = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: eval.artifact.path("metrics.json")))) as! [String: Any]
        XCTAssertEqual(metrics["judged_questions"] as? Int, 2, "the question without judgements is left out")
        XCTAssertEqual(try String(contentsOfFile: eval.artifact.path("run.trec"), encoding: .utf8).split(separator: "\n").count, 3 * 6)
        let lists = try String(contentsOfFile: eval.artifact.path("run.trec"), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: " ").map(String.init) }
        let ranked = Dictionary(grouping: lists, by: { $0[0] }).map { q, rows in RankedList(query: q, scores: rows.map { ($0[2], Float($0[4])!) }) }
        let judged: [String: [String: Int]] = ["g": ["doc-00001": 2, "doc-00002": 0], "7": ["doc-00003": 1]]
        let scored = RetrievalScores.judged(ranked, Qrels(judged), k: 3)
        XCTAssertEqual(metrics["ndcg_at_k"] as! Double, scored.map(\.ndcg).reduce(0, +) / Double(scored.count), accuracy: 1e-12)

        try (questions + [#"{"question": "Who?", "answer": "x", "relevant": "doc-00001"}"#]).joined(separator: "\n")
            .write(toFile: dir + "/questions.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try run()) { XCTAssertTrue("\($0)".contains("record 4's 'relevant' is neither a list"), "\($0)") }
    }

    /// A BEIR folder read as it is: the corpus by `_id` (each title leading its text), the queries by `_id` with their text as
    /// the question and no answer, judged by `qrels/test.tsv` (its header skipped); questions the
    /// split does not judge are left out. TREC qrels read the same; a bad line is named.
    func testABeirFolderIsReadAsItIs() throws {
        let beir = dir + "/scifact"
        try FileManager.default.createDirectory(atPath: beir + "/qrels", withIntermediateDirectories: true)
        try [#"{"_id": "d1", "title": "Cats", "text": "Cats sleep most of the day."}"#,
             #"{"_id": "d2", "title": "Rivers", "text": "Rivers carry water to the sea."}"#,
             #"{"_id": "d3", "title": "Stars", "text": "Stars burn hydrogen into helium."}"#].joined(separator: "\n")
            .write(toFile: beir + "/corpus.jsonl", atomically: true, encoding: .utf8)
        try [#"{"_id": "q1", "text": "How long do cats sleep?"}"#, #"{"_id": "q2", "text": "Where do rivers go?"}"#,
             #"{"_id": "q3", "text": "What do stars burn?"}"#].joined(separator: "\n")
            .write(toFile: beir + "/queries.jsonl", atomically: true, encoding: .utf8)
        try "query-id\tcorpus-id\tscore\nq1\td1\t1\nq3\td3\t2\nq3\td2\t0\n".write(toFile: beir + "/qrels/test.tsv", atomically: true, encoding: .utf8)
        let spec = """
            tailor: 1
            name: beir
            data:
              corpus: { file: scifact/corpus.jsonl, format: documents, fields: { id: _id } }
              queries: { file: scifact/queries.jsonl, format: queries, fields: { id: _id, question: text }, qrels: scifact/qrels/test.tsv }
            tokenizers:
              bytes: { bytes: true }
            models:
              encoder: { arch: bert, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
            rag:
              beir: { documents: corpus, embed: encoder }
            evals:
              retrieval: { rag: beir, data: queries, metrics: [ndcg_at_k, recall_at_k], k: 2 }
            """
        try spec.write(toFile: dir + "/beir.yaml", atomically: true, encoding: .utf8)
        func run() throws -> [Executor.Outcome] { try execute("beir.yaml") }
        var outcomes = try run()
        func text(_ id: String, _ file: String) throws -> String {
            try String(contentsOfFile: try XCTUnwrap(outcomes.first { $0.node.id == id }).artifact.path(file), encoding: .utf8)
        }
        let questions = try text("data.queries", "data.jsonl").split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(questions.map { $0["id"] as? String }, ["q1", "q3"], "q2 is not judged in this split")
        XCTAssertEqual(questions.last?["relevant"] as? [String: Int], ["d3": 2, "d2": 0])
        XCTAssertNil(questions.first?["answer"])
        XCTAssertEqual(try text("eval.retrieval.beir", "qrels.txt"), "q1 0 d1 1\nq3 0 d2 0\nq3 0 d3 2\n")
        XCTAssertTrue(try text("data.corpus", "data.jsonl").contains("Cats Cats sleep most of the day."), "the title leads the text")

        // TREC qrels give the same questions and judgements.
        try "q1 0 d1 1\nq3 0 d3 2\nq3 0 d2 0\n".write(toFile: beir + "/qrels/test.tsv", atomically: true, encoding: .utf8)
        outcomes = try run()
        XCTAssertEqual(try text("eval.retrieval.beir", "qrels.txt"), "q1 0 d1 1\nq3 0 d2 0\nq3 0 d3 2\n")
        try "q1 0 d1 1\nq3 d3\nq3 0 d2 high\n".write(toFile: beir + "/qrels/test.tsv", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try run()) { XCTAssertTrue("\($0)".contains("2 lines are not a judgement") && "\($0)".contains("lines 2, 3"), "\($0)") }
    }

    /// As BEIR evaluates by default, a document whose id is the question's own is left out of
    /// the question's ranking (and so of the run and the scores); `ignore_identical_ids: false`
    /// keeps it, as trec_eval would.
    func testADocumentWithTheQuestionsIdIsLeftOutAsBeirDoes() throws {
        try [#"{"id": "q1", "text": "How long do cats sleep?"}"#, #"{"id": "d1", "text": "Cats sleep most of the day."}"#,
             #"{"id": "d2", "text": "Rivers carry water to the sea."}"#].joined(separator: "\n")
            .write(toFile: dir + "/corpus.jsonl", atomically: true, encoding: .utf8)
        try #"{"id": "q1", "question": "How long do cats sleep?", "relevant": ["d1"]}"#.write(toFile: dir + "/queries.jsonl", atomically: true, encoding: .utf8)
        func run(_ setting: String) throws -> [String] {
            try """
                tailor: 1
                name: same
                data:
                  corpus: { file: corpus.jsonl, format: documents }
                  queries: { file: queries.jsonl, format: queries }
                tokenizers:
                  bytes: { bytes: true }
                models:
                  encoder: { arch: bert, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
                rag:
                  r: { documents: corpus, embed: encoder }
                evals:
                  retrieval: { rag: r, data: queries, metrics: [recall_at_k], k: 3\(setting) }
                """.write(toFile: dir + "/same.yaml", atomically: true, encoding: .utf8)
            let eval = try XCTUnwrap(try execute("same.yaml").first { $0.node.kind == .evalRAG })
            return try String(contentsOfFile: eval.artifact.path("run.trec"), encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ")[2]) }
        }
        XCTAssertEqual(Set(try run("")), ["d1", "d2"])
        XCTAssertEqual(Set(try run(", ignore_identical_ids: false")), ["q1", "d1", "d2"])
    }

    /// Editing one document embeds only its passages again: the rest come from the earlier
    /// index, and the new index is the same bits as one built from nothing. An earlier index
    /// that is gone from the cache is passed over.
    func testEditingOneDocumentEmbedsOnlyItsPassages() throws {
        func write(_ second: String) throws {
            try (1...5).map { i in
                let middle = i == 3 ? second : "It goes on \(i) times."
                return #"{"id": "d\#(i)", "text": "Doc \#(i) opens here. \#(middle) It ends with \#(i)."}"#
            }
                .joined(separator: "\n").write(toFile: dir + "/docs.jsonl", atomically: true, encoding: .utf8)
        }
        let spec = """
            tailor: 1
            name: edit
            data:
              docs: { file: docs.jsonl, format: documents }
            tokenizers:
              bytes: { bytes: true }
            models:
              encoder: { arch: bert, size: { layers: 1, width: 16, heads: 2, context: 128 }, tokenizer: bytes }
            rag:
              facts: { documents: docs, chunk: { size: 1, overlap: 0, unit: sentences }, embed: encoder }
            """
        try spec.write(toFile: dir + "/edit.yaml", atomically: true, encoding: .utf8)
        /// The index's artifact and what it said about the passages it embedded.
        func index(_ cache: String) throws -> (Artifact, [String]) {
            let (outcomes, said) = try executeReporting("edit.yaml", cache: cache)
            return (try XCTUnwrap(outcomes.first { $0.node.kind == .ragIndex }).artifact, said)
        }
        try write("It goes on 3 times.")
        let (first, firstSaid) = try index("cache")
        XCTAssertEqual(firstSaid.last, "embedding passages: 15/15 new, 0 from earlier indexes")
        try write("It was edited.")
        let (second, secondSaid) = try index("cache")
        XCTAssertEqual(secondSaid.last, "embedding passages: 1/1 new, 14 from earlier indexes")
        XCTAssertNotEqual(first.key, second.key)
        let (fresh, freshSaid) = try index("fresh")
        XCTAssertEqual(freshSaid.last, "embedding passages: 15/15 new, 0 from earlier indexes")
        XCTAssertEqual(second.digest, fresh.digest, "reused vectors are the bits a fresh index computes")

        try FileManager.default.removeItem(atPath: first.folder)
        try FileManager.default.removeItem(atPath: second.folder)
        try write("It changed again.")
        XCTAssertEqual(try index("cache").1.last, "embedding passages: 15/15 new, 0 from earlier indexes")
        XCTAssertEqual(try ArtifactStore(root: dir + "/cache").pruneMemo(), 2, "the markers of the two removed indexes")
    }

    /// An HNSW graph searched wider than the index ranks the documents as exact search does;
    /// changing only `ef_search` takes the graph from the earlier index instead of linking it again.
    func testAnHNSWGraphFindsWhatExactSearchFinds() throws {
        let exactSpec = Self.spec.replacingOccurrences(of: "rag_exact_match, gold_contains], k: 3, max_tokens: 4", with: "mrr], k: 3")
        try exactSpec.write(toFile: dir + "/rag.yaml", atomically: true, encoding: .utf8)
        func ranking(_ outcomes: [Executor.Outcome]) throws -> [String] {
            let run = try String(contentsOfFile: try XCTUnwrap(outcomes.first { $0.node.kind == .evalRAG }).artifact.path("run.trec"), encoding: .utf8)
            return run.split(separator: "\n").map { $0.split(separator: " ").prefix(4).joined(separator: " ") }  // qid Q0 docid rank
        }
        let exact = try ranking(try execute("rag.yaml"))
        func run(efSearch: Int) throws -> (ranking: [String], said: [String], graph: Data?) {
            try exactSpec.replacingOccurrences(of: "top_k: 2,", with: "top_k: 2, hnsw: { m: 4, ef_construction: 16, ef_search: \(efSearch) },")
                .write(toFile: dir + "/rag.yaml", atomically: true, encoding: .utf8)
            let (outcomes, said) = try executeReporting("rag.yaml")
            let index = try XCTUnwrap(outcomes.first { $0.node.kind == .ragIndex })
            return (try ranking(outcomes), said, FileManager.default.contents(atPath: index.artifact.path("hnsw.bin")))
        }
        let wide = try run(efSearch: 500)
        XCTAssertEqual(wide.ranking, exact, "every passage found: the same documents in the same order")
        XCTAssertEqual(wide.said.last, "linking the graph: 36/36")
        XCTAssertNotNil(wide.graph)
        let narrow = try run(efSearch: 3)
        XCTAssertEqual(narrow.said.last, "linking the graph: taken from an earlier index")
        XCTAssertEqual(narrow.graph, wide.graph)
    }
}
