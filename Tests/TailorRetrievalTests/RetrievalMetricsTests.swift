import Foundation
import TailorRetrieval
import XCTest

/// Retrieval metrics against pytrec_eval (trec_eval's code) on committed runs and qrels
/// (Fixtures/trec_reference.py writes Fixtures/trec.json).
final class RetrievalMetricsTests: XCTestCase {
    struct Fixture: Decodable {
        var run: [String: [String: Double]], qrels: [String: [String: Int]]
        var cuts: [Int], expected: [String: [String: Double]]
    }

    func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/trec.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func ranked(_ f: Fixture) -> [RankedList] {
        f.run.sorted { $0.key < $1.key }.map { q, scores in RankedList(query: q, scores: scores.map { ($0.key, Float($0.value)) }) }
    }

    func testEveryQueryEqualsPytrecEval() throws {
        let f = try fixture()
        var compared = 0
        for list in ranked(f) {
            guard let expected = f.expected[list.query], let judged = f.qrels[list.query] else { continue }
            for k in f.cuts {
                let s = RetrievalScores(list, judged: judged, k: k)
                for (name, value) in [("P_\(k)", s.precision), ("recall_\(k)", s.recall), ("ndcg_cut_\(k)", s.ndcg), ("mrr_\(k)", s.reciprocalRank)] {
                    XCTAssertEqual(value, try XCTUnwrap(expected[name]), accuracy: 1e-9, "\(list.query) \(name)")
                    compared += 1
                }
            }
        }
        XCTAssertEqual(compared, 12 * 4 * 4, "every judged and ranked query, every metric and cut")
    }

    /// Means are over the queries both sides know, as pytrec_eval returns them: the query only
    /// the run has and the one only the qrels have are left out.
    func testTheMeanLeavesOutQueriesOneSideLacks() throws {
        let f = try fixture()
        let scored = RetrievalScores.judged(ranked(f), Qrels(f.qrels), k: 5)
        XCTAssertEqual(scored.count, f.expected.count)
        let ndcg = f.expected.values.map { $0["ndcg_cut_5"]! }.reduce(0, +) / Double(f.expected.count)
        XCTAssertEqual(scored.map(\.ndcg).reduce(0, +) / Double(scored.count), ndcg, accuracy: 1e-9)
    }

    /// trec_eval's order: score descending, then the document id descending; the run file's
    /// lines follow it.
    func testTiesAreBrokenByTheDocumentIdAsTrecEvalDoes() {
        let list = RankedList(query: "q1", scores: [("d1", 0.5), ("d3", 0.5), ("d2", 0.75), ("d10", 0.5)])
        XCTAssertEqual(list.documents.map(\.id), ["d2", "d3", "d10", "d1"])
        XCTAssertEqual(list.trecLines(tag: "t", depth: 2), "q1 Q0 d2 1 0.75 t\nq1 Q0 d3 2 0.5 t\n")
    }
}
