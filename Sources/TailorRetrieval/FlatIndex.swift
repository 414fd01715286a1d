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
        let q = Tensor(queries.flatMap { $0 }, shape: [queries.count, dimension])  // (Q, d)
        var s = Tensor.noGrad { q.matmul(matrix.transposed()).contiguous() }.scalars  // (Q, N)
        if metric == .l2 {
            // −‖q − v‖² = 2 q·v − ‖q‖² − ‖v‖²
            for (i, query) in queries.enumerated() {
                let qq = query.reduce(0) { $0 + $1 * $1 }
                for j in 0..<count { s[i * count + j] = 2 * s[i * count + j] - qq - norms[j] }
            }
        }
        return s
    }

    /// The `k` best vectors of each query, best first (ties to the lower index), the queries
    /// scored 64 at a time so a large index never needs a (Q, N) block of every query.
    public func search(_ queries: [[Float]], k: Int) -> [[(index: Int, score: Float)]] {
        stride(from: 0, to: queries.count, by: 64).flatMap { start in
            let block = Array(queries[start..<Swift.min(queries.count, start + 64)])
            let s = scores(block)
            return block.indices.map { qi in
                let row = s[(qi * count)..<((qi + 1) * count)]
                return Self.top(k, of: row).map { ($0, row[row.startIndex + $0]) }
            }
        }
    }

    /// The indices of the `k` highest scores (ties to the earlier one), best first, found in
    /// one pass that keeps only those k, not a sort of the whole row.
    public static func top(_ k: Int, of row: ArraySlice<Float>) -> [Int] {
        guard k > 0 else { return [] }
        var kept: [Int] = []
        for (j, score) in zip(0..., row) where kept.count < k || score > row[row.startIndex + kept[kept.count - 1]] {
            let at = kept.firstIndex { row[row.startIndex + $0] < score } ?? kept.count
            kept.insert(j, at: at)
            if kept.count > k { kept.removeLast() }
        }
        return kept
    }
}
