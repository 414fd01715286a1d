import Foundation
import TailorRetrieval
import XCTest

final class FlatIndexTests: XCTestCase {
    /// Inner products and negative squared distances, every query against every vector.
    func testScoresAreProductsOrNegativeDistances() {
        let vectors: [Float] = [1, 0, 0, 1, 3, 4]
        let dot = FlatIndex(vectors: vectors, dimension: 2, metric: .dot)
        XCTAssertEqual(dot.scores([[1, 2]]), [1, 2, 11])
        let l2 = FlatIndex(vectors: vectors, dimension: 2, metric: .l2)
        XCTAssertEqual(l2.scores([[1, 2], [3, 4]]), [-4, -2, -8, -20, -18, 0])
        XCTAssertEqual(dot.search([[1, 2], [0, -1]], k: 2).map { $0.map(\.index) }, [[2, 1], [0, 1]], "ties to the lower index")
    }

    /// Many queries search tile by tile, keeping their best across tiles: the same as a full
    /// sort of every score, ties (many here, across tile boundaries) to the lower index.
    func testTiledSearchEqualsAFullSort() {
        let vectors: [Float] = (0..<(2 * 3000)).map { Float(($0 * 7) % 11) - 5 }  // 3,000 two-float vectors, few distinct
        let queries: [[Float]] = (0..<20).map { [Float($0 % 3) - 1, 1] }
        for metric in [FlatIndex.Metric.dot, .l2] {
            let index = FlatIndex(vectors: vectors, dimension: 2, metric: metric)
            let scores = index.scores(queries)
            for (qi, found) in index.search(queries, k: 50).enumerated() {
                let row = Array(scores[(qi * 3000)..<((qi + 1) * 3000)])
                let sorted = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
                XCTAssertEqual(found.map(\.index), Array(sorted.prefix(50)), "\(metric), query \(qi)")
                XCTAssertEqual(found.map(\.score), sorted.prefix(50).map { row[$0] })
            }
        }
    }

    /// The best found in one pass are the first k of a full sort (score descending, ties to the
    /// earlier one), whatever the ties and however k compares with the row.
    func testTheTopAreTheFirstOfAFullSort() {
        let row: [Float] = (0..<200).map { Float(($0 * 37) % 23) / 4 }  // many ties
        let sorted = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
        for k in [0, 1, 2, 7, 199, 200, 300] {
            XCTAssertEqual(FlatIndex.top(k, of: row[...]), Array(sorted.prefix(k)), "k = \(k)")
            XCTAssertEqual(FlatIndex.top(k, of: ([1] + row)[1...]), Array(sorted.prefix(k)), "a slice not at index 0, k = \(k)")
        }
    }
}

final class HNSWIndexTests: XCTestCase {
    /// Unit vectors around `centres` random centres (a seeded generator: the same on every run).
    static func vectors(_ n: Int, dimension: Int, centres: Int, seed: UInt64) -> [Float] {
        var state = seed
        func uniform() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        let c = (0..<(centres * dimension)).map { _ in uniform() }
        return (0..<n).flatMap { _ -> [Float] in
            let at = Int(abs(uniform()) * 2 * Float(centres - 1))
            let v = (0..<dimension).map { c[at * dimension + $0] + 0.3 * uniform() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
    }

    func recall(_ approximate: [[(index: Int, score: Float)]], _ exact: [[(index: Int, score: Float)]]) -> Double {
        let hits = zip(approximate, exact).map { a, e in Set(a.map(\.index)).intersection(e.map(\.index)).count }
        return Double(hits.reduce(0, +)) / Double(exact.map(\.count).reduce(0, +))
    }

    /// Searching with `ef` at least the number of vectors visits the whole graph: the exact
    /// answer, for every metric. With a smaller `ef` the graph still finds nearly all of it.
    func testAWideSearchIsExactAndANarrowOneNearlySo() {
        let base = Self.vectors(1500, dimension: 24, centres: 30, seed: 1)
        let queries = Self.vectors(60, dimension: 24, centres: 30, seed: 2)
        let rows = stride(from: 0, to: queries.count, by: 24).map { Array(queries[$0..<($0 + 24)]) }
        for metric in [FlatIndex.Metric.cosine, .l2] {
            let flat = FlatIndex(vectors: base, dimension: 24, metric: metric)
            let graph = HNSWIndex(flat, m: 8, efConstruction: 64)
            let exact = flat.search(rows, k: 10)
            XCTAssertEqual(recall(graph.search(rows, k: 10, ef: 1500), exact), 1, "\(metric)")
            XCTAssertGreaterThan(recall(graph.search(rows, k: 10, ef: 40), exact), 0.95, "\(metric)")
        }
    }

    /// A graph written and read back searches the same; bytes that are not a graph of these
    /// vectors (cut short, a link out of range, another count) are refused, never trusted.
    func testAWrittenGraphReadsBackAndDamageIsRefused() {
        let base = Self.vectors(300, dimension: 16, centres: 10, seed: 3)
        let flat = FlatIndex(vectors: base, dimension: 16, metric: .dot)
        let graph = HNSWIndex(flat, m: 6, efConstruction: 32)
        let data = graph.serialized
        XCTAssertEqual(HNSWIndex(flat, m: 6, efConstruction: 32).serialized, data, "the same vectors give the same graph")
        let query = [Array(base[0..<16]), Array(base[160..<176])]
        let read = HNSWIndex(flat, data: data)
        XCTAssertEqual(read?.search(query, k: 5, ef: 20).map { $0.map(\.index) }, graph.search(query, k: 5, ef: 20).map { $0.map(\.index) })
        for cut in stride(from: 0, to: data.count, by: 37) { XCTAssertNil(HNSWIndex(flat, data: data.prefix(cut)), "cut at \(cut)") }
        var outOfRange = data
        outOfRange.replaceSubrange((data.count - 4)..<data.count, with: withUnsafeBytes(of: Int32(300).littleEndian) { Data($0) })
        XCTAssertNil(HNSWIndex(flat, data: outOfRange))
        XCTAssertNil(HNSWIndex(FlatIndex(vectors: Array(base.prefix(16 * 299)), dimension: 16, metric: .dot), data: data))
    }
}
