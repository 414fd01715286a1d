import TailorRuntime

/// Exact nearest-neighbour search: every query against every vector in one BLAS product
/// (FAISS's `IndexFlatIP`, and `IndexFlatL2` for `l2`). Scores are higher-is-closer:
/// the inner product (`dot`; `cosine` on vectors the encoder already scaled to unit length)
/// or the negative squared distance (`l2`).
public struct FlatIndex: @unchecked Sendable {  // the matrix is never written after init
    public enum Metric: String, Sendable { case cosine, dot, l2 }

    public let dimension: Int, metric: Metric
    /// The vectors, row after row: (N, dimension), held once for every product.
    let matrix: Tensor
    /// Each vector's squared length, for `l2`.
    let norms: [Float]
    public let count: Int

    public init(vectors: [Float], dimension: Int, metric: Metric) {
        precondition(dimension > 0 && vectors.count % dimension == 0, "vectors of \(dimension) floats")
        (self.dimension, self.metric, count) = (dimension, metric, vectors.count / dimension)
        matrix = Tensor(vectors, shape: [count, dimension])
        norms = metric == .l2 ? stride(from: 0, to: vectors.count, by: dimension).map { s in
            vectors[s..<(s + dimension)].reduce(0) { $0 + $1 * $1 }
        } : []
    }

    /// The vectors, row after row.
    public var vectors: [Float] { count == 0 ? [] : matrix.scalars }

    /// Vector `i`.
    public func vector(_ i: Int) -> [Float] { Array(UnsafeBufferPointer(start: matrix.pointer + i * dimension, count: dimension)) }

    /// Every query's score against every vector: (Q, N), row after row.
    public func scores(_ queries: [[Float]]) -> [Float] {
        guard !queries.isEmpty, count > 0 else { return [] }
        return product(queries).scalars
    }

    /// The scores as a contiguous (Q, N) tensor: one BLAS product, shifted for `l2`.
    func product(_ queries: [[Float]]) -> Tensor {
        let q = Tensor(queries.flatMap { $0 }, shape: [queries.count, dimension])  // (Q, d)
        let s = Tensor.noGrad { q.matmul(matrix.transposed()).contiguous() }  // (Q, N)
        if metric == .l2 {
            // −‖q − v‖² = 2 q·v − ‖q‖² − ‖v‖²
            for (i, query) in queries.enumerated() {
                let qq = query.reduce(0) { $0 + $1 * $1 }, row = s.pointer + i * count
                for j in 0..<count { row[j] = 2 * row[j] - qq - norms[j] }
            }
        }
        return s
    }

    /// Queries scored in one product: as many as keep the (block, N) scores near 16M floats,
    /// between 16 and 1,024 (OpenBLAS packs the vectors once per product, so larger blocks
    /// are faster; measured in docs/performance.md).
    public var queriesPerBlock: Int { Swift.max(16, Swift.min(1024, (1 << 24) / Swift.max(1, count))) }

    /// The `k` best vectors of each query, best first (ties to the lower index), the queries
    /// scored a block at a time so a large index never needs a (Q, N) block of every query.
    public func search(_ queries: [[Float]], k: Int) -> [[(index: Int, score: Float)]] {
        guard count > 0 else { return queries.map { _ in [] } }
        return stride(from: 0, to: queries.count, by: queriesPerBlock).flatMap { start in
            let block = Array(queries[start..<Swift.min(queries.count, start + queriesPerBlock)])
            let s = product(block)  // (B, N)
            // Each query's best in parallel: each is a function of its own row alone.
            let found = Rows(tops: .allocate(capacity: block.count), scores: s.pointer, count: count)
            found.tops.initialize(repeating: [])
            defer { found.tops.deinitialize().deallocate() }
            Parallel.forEach(block.count, grain: 16) { range in
                for qi in range { found.tops[qi] = Self.top(k, of: UnsafeBufferPointer(start: found.scores + qi * found.count, count: found.count)) }
            }
            return block.indices.map { qi in found.tops[qi].map { ($0, s.pointer[qi * count + $0]) } }
        }
    }

    /// A block's scores and the best of each row, shared with the threads that find them
    /// (each writes only its own rows).
    struct Rows: @unchecked Sendable {
        let tops: UnsafeMutableBufferPointer<[Int]>, scores: UnsafeMutablePointer<Float>, count: Int
    }

    /// The indices of the `k` highest scores (ties to the earlier one), best first, found in
    /// one pass that keeps only those k, not a sort of the whole row.
    public static func top(_ k: Int, of row: ArraySlice<Float>) -> [Int] {
        row.withUnsafeBufferPointer { top(k, of: $0) }
    }

    static func top(_ k: Int, of row: UnsafeBufferPointer<Float>) -> [Int] {
        guard k > 0, row.count > 0 else { return [] }
        var kept: [Int] = []
        kept.reserveCapacity(k + 1)
        var floor = -Float.infinity  // the k-th best score so far, once k are kept
        for j in 0..<row.count {
            let score = row[j]
            guard kept.count < k || score > floor else { continue }
            var at = kept.count
            while at > 0, row[kept[at - 1]] < score { at -= 1 }
            kept.insert(j, at: at)
            if kept.count > k { kept.removeLast() }
            if kept.count == k { floor = row[kept[k - 1]] }
        }
        return kept
    }
}
