import Foundation
import TailorRetrieval
import TailorRuntime

/// The vector index against FAISS (docs/bench/faiss_index.py writes the same vectors and
/// measures FAISS on them in the same run): build time, one-query-at-a-time latency (p50,
/// p99) and batch throughput of exact search, and the HNSW graph's build time, recall@10
/// against exact search and latency at several `ef`. Vectors from `INDEX_DATA` (a folder with
/// `base.f32` and `queries.f32`, 384 floats a row); `INDEX_M` and `INDEX_EF_CONSTRUCTION`
/// (default 32 and 200, as the FAISS script). Prints one JSON object.
enum IndexBench {
    static func run() {
        let env = ProcessInfo.processInfo.environment
        let folder = env["INDEX_DATA"] ?? "/tmp/tailor-index"
        let dimension = 384, k = 10
        let m = env["INDEX_M"].flatMap(Int.init) ?? 32, efConstruction = env["INDEX_EF_CONSTRUCTION"].flatMap(Int.init) ?? 200
        func read(_ name: String) -> [Float] {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name), data.count % (4 * dimension) == 0 else {
                print("no \(folder)/\(name): run docs/bench/faiss_index.py --write \(folder) first")
                exit(1)
            }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let base = read("base.f32"), queryRows = read("queries.f32")
        let queries = stride(from: 0, to: queryRows.count, by: dimension).map { Array(queryRows[$0..<($0 + dimension)]) }
        func ms(_ xs: [Double]) -> [String: Double] {
            let s = xs.sorted()
            return ["p50_ms": s[s.count / 2] * 1000, "p99_ms": s[Swift.min(s.count - 1, Int(Double(s.count) * 0.99))] * 1000]
        }
        var result: [String: Any] = ["n": base.count / dimension, "dim": dimension, "queries": queries.count, "k": k, "threads": Parallel.threads]

        var t0 = Bench.now()
        let flat = FlatIndex(vectors: base, dimension: dimension, metric: .dot)
        result["flat_build_s"] = Bench.now() - t0
        for q in queries.prefix(20) { _ = flat.search([q], k: k) }
        var single: [Double] = []
        for q in queries {
            t0 = Bench.now()
            _ = flat.search([q], k: k)
            single.append(Bench.now() - t0)
        }
        t0 = Bench.now()
        let exact = flat.search(queries, k: k)
        let batch = Bench.now() - t0
        result["flat_single"] = ms(single)
        result["flat_batch_qps"] = Double(queries.count) / batch

        t0 = Bench.now()
        let graph = HNSWIndex(flat, m: m, efConstruction: efConstruction)
        result["hnsw_build_s"] = Bench.now() - t0
        result["hnsw_m"] = m
        result["hnsw_ef_construction"] = efConstruction
        let searcher = HNSWIndex.Searcher(for: graph)
        var sweep: [[String: Any]] = []
        for ef in [16, 32, 64, 128, 256] {
            for q in queries.prefix(20) { _ = graph.search(q, k: k, ef: ef, using: searcher) }
            var times: [Double] = [], hits = 0
            for (q, truth) in zip(queries, exact) {
                t0 = Bench.now()
                let found = graph.search(q, k: k, ef: ef, using: searcher)
                times.append(Bench.now() - t0)
                hits += Set(found.map(\.index)).intersection(truth.map(\.index)).count
            }
            var row: [String: Any] = ["ef_search": ef, "recall_at_10": Double(hits) / Double(k * queries.count)]
            for (key, value) in ms(times) { row[key] = value }
            sweep.append(row)
        }
        result["hnsw"] = sweep
        result["peak_rss_mb"] = Bench.peakRSS()
        let json = try! JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }
}
