import Foundation

/// Retrieval metrics as trec_eval computes them (pytrec_eval wraps it), at cutoff k, for one
/// query: `P_k`, `recall_k`, `ndcg_cut_k` (linear gain, log2 discount, the ideal ranking
/// from the judgements) and the reciprocal rank of the first relevant document within the
/// first k (BEIR's MRR@k; trec_eval's `recip_rank` on a run cut at k). A document counts as
/// relevant with a grade of 1 or more; unjudged documents count as not relevant.
public struct RetrievalScores: Sendable, Equatable {
    public var precision: Double, recall: Double, ndcg: Double, reciprocalRank: Double

    public init(_ ranked: RankedList, judged: [String: Int], k: Int) {
        let top = ranked.documents.prefix(k).map { judged[$0.id] ?? 0 }
        let relevant = judged.values.filter { $0 >= 1 }.count
        let hits = top.filter { $0 >= 1 }.count
        precision = Double(hits) / Double(k)
        recall = relevant == 0 ? 0 : Double(hits) / Double(relevant)
        func dcg(_ gains: [Int]) -> Double {
            gains.enumerated().reduce(0.0) { $0 + (Double(max(0, $1.element)) / log2(Double($1.offset) + 2)) }
        }
        let ideal = dcg(Array(judged.values.filter { $0 > 0 }.sorted(by: >).prefix(k)))
        ndcg = ideal > 0 ? dcg(top) / ideal : 0
        reciprocalRank = top.firstIndex { $0 >= 1 }.map { 1 / Double($0 + 1) } ?? 0
    }

    /// The scores of the queries that the run ranks and the qrels judge, in the run's order:
    /// the queries trec_eval averages over by default (and pytrec_eval returns); a query with no
    /// judgements, or none retrieved, is left out.
    public static func judged(_ runs: [RankedList], _ qrels: Qrels, k: Int) -> [RetrievalScores] {
        runs.compactMap { ranked in
            guard let judged = qrels.judged[ranked.query], !ranked.documents.isEmpty else { return nil }
            return RetrievalScores(ranked, judged: judged, k: k)
        }
    }
}
