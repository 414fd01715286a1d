/// rag.chunk: how documents are cut into passages.
public struct RAGChunkParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.ragChunk]
    public static var version: Int { 2 }  // 2: the documents kept beside their passages
    public var size: Int, overlap: Int
    /// `words`, `sentences`, `chars` or `tokens`.
    public var unit: String

    public init(_ p: Params) throws {
        let chunk = try p.required("chunk")
        size = try chunk.required("size", \.int)
        overlap = try chunk.required("overlap", \.int)
        unit = try chunk.required("unit", \.string)
    }
}

/// rag.index: the passages' embeddings, searched by `metric`.
public struct RAGIndexParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.ragIndex]
    public static var version: Int { 3 }  // 2: the documents kept beside their passages; 3: vectors that do not depend on the batch
    /// `cosine`, `dot` or `l2`.
    public var metric: String
    /// The HNSW graph's links per node, candidates while building and while searching; nil for exact search.
    public var hnsw: (m: Int, efConstruction: Int, efSearch: Int)?

    public init(_ p: Params) throws {
        metric = try p.required("metric", \.string)
        if let h = p["hnsw"] {
            hnsw = (try h.required("m", \.int), try h.required("ef_construction", \.int), try h.required("ef_search", \.int))
        }
    }
}

/// eval.rag: retrieval for every question of the eval's data, scored against the questions'
/// relevant documents at cutoff `k`, and answers generated from the `top_k` passages.
public struct EvalRAGParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.evalRAG]
    public static var version: Int { 3 }  // 2: 95% bootstrap intervals beside the scores; 3: questions embedded unpadded
    public var scope: EvalScope
    /// Passages each answer reads; in the plan only when a metric generates.
    public var topK: Int?
    /// The cutoff of the retrieval metrics; in the plan only when one is asked for.
    public var k: Int?
    /// Longest generated answer; in the plan only when a metric generates.
    public var maxTokens: Int?
    /// Whether a document whose id is the question's leaves its ranking (BEIR's default).
    public var ignoreIdenticalIDs: Bool

    public init(_ p: Params) throws {
        scope = try EvalScope(p)
        topK = p["rag"]?.optional("top_k", \.int)
        k = p.optional("k", \.int)
        maxTokens = p.optional("max_tokens", \.int)
        ignoreIdenticalIDs = p.optional("ignore_identical_ids", \.bool) ?? false
    }
}
