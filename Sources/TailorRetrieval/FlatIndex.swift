import TailorRuntime

/// Exact nearest-neighbour search: every query against every vector in one BLAS product
/// (FAISS's `IndexFlatIP`, and `IndexFlatL2` for `l2`). Scores are higher-is-closer:
/// the inner product (`dot`; `cosine` on vectors the encoder already scaled to unit length)
/// or the negative squared distance (`l2`).
public struct FlatIndex: Sendable {
    public enum Metric: String, Sendable { case cosine, dot, l2 }

    public let dimension: Int, metric: Metric
    /// The vectors, row after row: (N, dimension).
    public let vectors: [Float]
    /// Each vector's squared length, for `l2`.
    let norms: [Float]

    public var count: Int { dimension == 0 ? 0 : vectors.count / dimension }

    public init(vectors: [Float], dimension: Int, metric: Metric) {
        precondition(dimension > 0 && vectors.count % dimension == 0, "vectors of \(dimension) floats")
        (self.vectors, self.dimension, self.metric) = (vectors, dimension, metric)
        norms = metric == .l2 ? stride(from: 0, to: vectors.count, by: dimension).map { s in
            vectors[s..<(s + dimension)].reduce(0) { $0 + $1 * $1 }
        } : []
    }

    /// Every query's score against every vector: (Q, N), row after row.
    public func scores(_ queries: [[Float]]) -> [Float] {
        guard !queries.isEmpty, count > 0 else { return [] }
        let q = Tensor(queries.flatMap { $0 }, shape: [queries.count, dimension])  // (Q, d)
        let v = Tensor(vectors, shape: [count, dimension])  // (N, d)
        var s = Tensor.noGrad { q.matmul(v.transposed()).contiguous() }.scalars  // (Q, N)
        if metric == .l2 {
            // −‖q − v‖² = 2 q·v − ‖q‖² − ‖v‖²
            for (i, query) in queries.enumerated() {
                let qq = query.reduce(0) { $0 + $1 * $1 }
                for j in 0..<count { s[i * count + j] = 2 * s[i * count + j] - qq - norms[j] }
            }
        }
        return s
    }
}
