import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorRetrieval

/// rag.chunk (documents into passages), rag.index (the passages embedded) and eval.rag
/// (retrieval for every question, scored as trec_eval scores a run, and answers generated
/// from the retrieved passages).
enum RAGRunners {
    /// Every document's passages, in document order: `chunks.jsonl`, one passage a line with
    /// its id (`DOC#n`), document, offsets and text; and the documents themselves
    /// (`documents.jsonl`: id and text), the gold context a question's relevant ids name.
    static func chunk(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(RAGChunkParameters.self)
        guard let unit = Chunker.Unit(rawValue: p.unit) else { throw ParameterError(path: "chunk.unit") }
        guard p.size > 0, p.overlap >= 0, p.overlap < p.size else { throw ParameterError(path: "chunk.overlap") }
        let source = try ctx.input(.documents)
        let documents = try ctx.dataset(source).records
        let tokenizer = try unit == .tokens ? ArtifactTokenizer.load(try ctx.input(.encoder).artifact) : nil
        var seen = Set<String>(), lines = "", texts = "", count = 0
        for (i, record) in documents.enumerated() {
            guard let text = record["text"] as? String else { throw ExecutionError.noTextField(source.input.display, record: i + 1, "text") }
            let id = try recordID(record, index: i, prefix: "doc", source: source.input.display)
            guard seen.insert(id).inserted else { throw ExecutionError.duplicateDocument(source.input.display, id) }
            JSONText.compact(["id": id, "text": text], into: &texts)
            texts += "\n"
            for c in Chunker.chunks(document: id, text: text, size: p.size, overlap: p.overlap, unit: unit, tokens: { tokenizer?.count($0) ?? 1 }) {
                JSONText.compact(["id": c.id, "document": c.document, "start": c.start, "end": c.end, "text": c.text], into: &lines)
                lines += "\n"
                count += 1
            }
        }
        guard count > 0 else { throw ExecutionError.noPassages(source.input.display) }
        try lines.write(toFile: ctx.out("chunks.jsonl"), atomically: false, encoding: .utf8)
        try texts.write(toFile: ctx.out("documents.jsonl"), atomically: false, encoding: .utf8)
        try JSONText.render(["documents": documents.count, "chunks": count] as [String: Any]).write(toFile: ctx.out("chunks.json"), atomically: false, encoding: .utf8)
    }

    /// A record's id: its `id` (text or number), else `prefix` and its place in the dataset
    /// (`doc1`, `q1`, …). Run files and qrels are split on spaces, so an id holds none.
    static func recordID(_ record: [String: Any], index: Int, prefix: String, source: String) throws -> String {
        let id = (record["id"] as? String) ?? (record["id"] as? Int).map(String.init) ?? "\(prefix)\(index + 1)"
        guard !id.isEmpty, !id.contains(where: \.isWhitespace) else { throw ExecutionError.badRecordID(source, record: index + 1, id) }
        return id
    }

    /// The passages' embeddings by the encoder, in passage order: `vectors.f32` (little-endian
    /// float32, one row per passage), `index.json` (count, dimension, metric) and the passages
    /// themselves (`chunks.jsonl`, and their documents, `documents.jsonl`), so a search needs
    /// this artifact alone.
    ///
    /// A passage whose text an earlier index embedded with the same encoder and scaling takes
    /// that vector instead of being embedded again: a vector depends on its text alone
    /// (`Encoder`), so the artifact is the same bits either way, and editing one document
    /// embeds only its passages.
    static func index(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(RAGIndexParameters.self)
        guard let metric = FlatIndex.Metric(rawValue: p.metric) else { throw ParameterError(path: "metric") }
        let chunksArtifact = try ctx.input(.chunks).artifact
        let chunksPath = chunksArtifact.path("chunks.jsonl")
        let chunks = try readChunks(chunksPath)
        let encoderArtifact = try ctx.input(.encoder).artifact
        let encoder = try Encoder(encoderArtifact, normalize: metric == .cosine)
        let family = "rag.index vectors \(RAGIndexParameters.version) \(encoderArtifact.key) normalize=\(encoder.normalize)"
        var known: [String: [Float]] = [:]
        for earlier in ctx.filed(under: family, limit: 4) {
            guard let found = try? loadIndex(earlier, graph: false), found.flat.dimension == encoder.dimension else { continue }
            for (i, c) in found.chunks.enumerated() where known[c.text] == nil { known[c.text] = found.flat.vector(i) }
        }
        let missing = Array(Set(chunks.map(\.text)).filter { known[$0] == nil }).sorted()
        let began = Date()
        let embedded = encoder.embed(missing) { done, total in
            ctx.progress("embedding passages: \(done)/\(total) new, \(chunks.count - total) from earlier indexes", done: done, total: total, since: began)
        }
        if missing.isEmpty { ctx.progress("embedding passages: 0 new, \(chunks.count) from earlier indexes") }
        for (text, vector) in zip(missing, embedded) { known[text] = vector }
        var flat: [Float] = []
        flat.reserveCapacity(chunks.count * encoder.dimension)
        for c in chunks { flat += known[c.text]! }
        try Data(bytes: &flat, count: flat.count * 4).write(to: URL(fileURLWithPath: ctx.out("vectors.f32")))
        try FileManager.default.copyItem(atPath: chunksPath, toPath: ctx.out("chunks.jsonl"))
        try FileManager.default.copyItem(atPath: chunksArtifact.path("documents.jsonl"), toPath: ctx.out("documents.jsonl"))
        var info: [String: Any] = ["count": chunks.count, "dimension": encoder.dimension, "metric": metric.rawValue]
        if let h = p.hnsw {
            let graph = try hnsw(ctx, FlatIndex(vectors: flat, dimension: encoder.dimension, metric: metric), m: h.m, efConstruction: h.efConstruction,
                                 family: "rag.index hnsw \(RAGIndexParameters.version) \(chunksArtifact.digest) \(family) m=\(h.m) ef=\(h.efConstruction)")
            try graph.serialized.write(to: URL(fileURLWithPath: ctx.out("hnsw.bin")))
            info["hnsw"] = ["m": h.m, "ef_construction": h.efConstruction, "ef_search": h.efSearch]
        }
        try JSONText.render(info).write(toFile: ctx.out("index.json"), atomically: false, encoding: .utf8)
        try ctx.file(under: family)
    }

    /// The HNSW graph over the index's vectors: an earlier index's graph of the same passages,
    /// encoder and settings (one that differed only in `ef_search`, which the graph does not
    /// depend on), else built here.
    static func hnsw(_ ctx: NodeContext, _ flat: FlatIndex, m: Int, efConstruction: Int, family: String) throws -> HNSWIndex {
        defer { try? ctx.file(under: family) }
        for earlier in ctx.filed(under: family, limit: 1) {
            if let data = FileManager.default.contents(atPath: earlier.path("hnsw.bin")), let graph = HNSWIndex(flat, data: data) {
                ctx.progress("linking the graph: taken from an earlier index")
                return graph
            }
        }
        let began = Date()
        return HNSWIndex(flat, m: m, efConstruction: efConstruction) { done, total in
            ctx.progress("linking the graph: \(done)/\(total)", done: done, total: total, since: began)
        }
    }

    static func readChunks(_ path: String) throws -> [Chunk] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ExecutionError.datasetUnreadable(path) }
        return try text.split(separator: "\n").map { line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                  let id = o["id"] as? String, let document = o["document"] as? String, let start = o["start"] as? Int, let end = o["end"] as? Int,
                  let text = o["text"] as? String
            else { throw ExecutionError.datasetUnreadable(path) }
            return Chunk(id: id, document: document, start: start, end: end, text: text)
        }
    }

    /// The documents' texts of an index artifact, by id.
    static func documentTexts(_ artifact: Artifact) throws -> [String: String] {
        let records = try Dataset.read(artifact.path("documents.jsonl")).records
        return Dictionary(records.compactMap { r in (r["id"] as? String).flatMap { id in (r["text"] as? String).map { (id, $0) } } },
                          uniquingKeysWith: { a, _ in a })
    }

    /// An index artifact read back: its passages, their vectors, and the HNSW graph over them
    /// with its search breadth when the pipeline asked for one.
    struct LoadedIndex {
        let chunks: [Chunk], flat: FlatIndex, graph: HNSWIndex?, efSearch: Int
    }

    /// The index artifact read back (without its graph when `graph` is false).
    static func loadIndex(_ artifact: Artifact, graph: Bool = true) throws -> LoadedIndex {
        let chunks = try readChunks(artifact.path("chunks.jsonl"))
        guard let info = FileManager.default.contents(atPath: artifact.path("index.json")),
              let json = (try? JSONSerialization.jsonObject(with: info)) as? [String: Any],
              let dimension = json["dimension"] as? Int, dimension > 0, json["count"] as? Int == chunks.count,
              let metric = (json["metric"] as? String).flatMap(FlatIndex.Metric.init),
              let data = FileManager.default.contents(atPath: artifact.path("vectors.f32")), data.count == chunks.count * dimension * 4
        else { throw ExecutionError.unreadableIndex(artifact.key) }
        let vectors = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let flat = FlatIndex(vectors: vectors, dimension: dimension, metric: metric)
        guard graph, let h = json["hnsw"] as? [String: Any] else { return LoadedIndex(chunks: chunks, flat: flat, graph: nil, efSearch: 0) }
        guard let efSearch = h["ef_search"] as? Int, efSearch > 0, let bytes = FileManager.default.contents(atPath: artifact.path("hnsw.bin")),
              let hnsw = HNSWIndex(flat, data: bytes)
        else { throw ExecutionError.unreadableIndex(artifact.key) }
        return LoadedIndex(chunks: chunks, flat: flat, graph: hnsw, efSearch: efSearch)
    }
}

extension RAGRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.ragChunk: chunk, .ragIndex: index, .evalRAG: evaluate]
}
