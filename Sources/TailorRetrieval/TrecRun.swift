/// One query's ranked documents, as a TREC run file holds them (`qid Q0 docid rank score tag`).
/// The order is trec_eval's: score descending, and among equal scores the document id
/// descending (trec_eval sorts so and ignores the file's rank column), so the run file, the
/// metrics and pytrec_eval agree however the scores tie.
public struct RankedList: Sendable, Equatable {
    public var query: String
    public var documents: [(id: String, score: Float)]

    public init(query: String, scores: [(id: String, score: Float)]) {
        self.query = query
        // Ids compare byte by byte, as trec_eval's strcmp does.
        documents = scores.sorted { $0.score != $1.score ? $0.score > $1.score : $1.id.utf8.lexicographicallyPrecedes($0.id.utf8) }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.query == b.query && a.documents.map(\.id) == b.documents.map(\.id) && a.documents.map(\.score) == b.documents.map(\.score)
    }

    /// The run file's lines for this query, its first `depth` documents.
    public func trecLines(tag: String, depth: Int) -> String {
        documents.prefix(depth).enumerated().map { rank, d in
            "\(query) Q0 \(d.id) \(rank + 1) \(d.score) \(tag)\n"
        }.joined()
    }
}

/// Relevance judgements, TREC qrels (`qid 0 docid rel`) or BEIR's (`query-id corpus-id score`):
/// by query, each judged document's grade. A grade of 1 or more is relevant, as trec_eval takes it.
public struct Qrels: Sendable {
    public var judged: [String: [String: Int]]
    public init(_ judged: [String: [String: Int]]) { self.judged = judged }
}
