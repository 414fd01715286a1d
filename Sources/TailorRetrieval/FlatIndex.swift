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
        product(Tensor(queries.flatMap { $0 }, shape: [queries.count, dimension]), rows: 0..<count)
    }

    /// The queries' (Q, d) scores against the vectors `rows`: (Q, rows), shifted for `l2`.
    func product(_ q: Tensor, rows: Range<Int>) -> Tensor {
        let v = rows == 0..<count ? matrix : matrix.slice(axis: 0, rows)  // (R, d)
        let s = Tensor.noGrad { q.matmul(v.transposed()).contiguous() }  // (Q, R)
        if metric == .l2 {
            // −‖q − v‖² = 2 q·v − ‖q‖² − ‖v‖²
            for i in 0..<q.shape[0] {
                var qq: Float = 0
                for j in 0..<dimension { qq += q.pointer[i * dimension + j] * q.pointer[i * dimension + j] }
                let row = s.pointer + i * rows.count
                for (j, r) in rows.enumerated() { row[j] = 2 * row[j] - qq - norms[r] }
            }
        }
        return s
    }

    /// Vectors scored in one product of a search: a tile of 1,024 (FAISS's), so the scores of a
    /// block of queries stay small and their memory is reused tile after tile (a (1,000, 10k)
    /// block of scores cost more in fresh pages than in arithmetic, docs/performance.md). A few
    /// queries take every vector at once: one matrix-vector product each.
    static let tile = 1024

    /// The `k` best vectors of each query, best first (ties to the lower index): up to 4,096
    /// queries at a time against each tile of vectors, each query keeping its best across tiles.
    public func search(_ queries: [[Float]], k: Int) -> [[(index: Int, score: Float)]] {
        guard count > 0, k > 0 else { return queries.map { _ in [] } }
        return stride(from: 0, to: queries.count, by: 4096).flatMap { start in
            let block = Array(queries[start..<Swift.min(queries.count, start + 4096)])
            let q = Tensor(block.flatMap { $0 }, shape: [block.count, dimension])  // (B, d)
            let width = block.count < 16 ? count : Self.tile
            let best = Running(items: .allocate(capacity: block.count))
            best.items.initialize(repeating: Best(k))
            defer { best.items.deinitialize().deallocate() }
            for first in stride(from: 0, to: count, by: width) {
                let rows = first..<Swift.min(count, first + width)
                let s = product(q, rows: rows)  // (B, R)
                defer { withExtendedLifetime(s) {} }  // read through `scores` only: kept to the block's end
                let scores = Running.Scores(pointer: s.pointer, width: rows.count, first: first)
                // Each query's best in parallel: each is a function of its own row alone.
                Parallel.forEach(block.count, grain: 16) { range in
                    for qi in range { best.items[qi].add(UnsafeBufferPointer(start: scores.pointer + qi * scores.width, count: scores.width), from: scores.first) }
                }
            }
            return block.indices.map { best.items[$0].found }
        }
    }

    /// Each query's best so far, shared with the threads that update them (each its own).
    struct Running: @unchecked Sendable {
        let items: UnsafeMutableBufferPointer<Best>
        struct Scores: @unchecked Sendable {
            let pointer: UnsafeMutablePointer<Float>, width: Int, first: Int
        }
    }

    /// The `k` best (index, score) seen so far, best first; a later index never displaces an
    /// earlier one of equal score, so the result is a full sort's first k whatever the tiles.
    struct Best {
        let k: Int
        var found: [(index: Int, score: Float)] = []
        init(_ k: Int) {
            self.k = k
            found.reserveCapacity(k + 1)
        }

        /// Scores of the vectors `first`, `first + 1`, ….
        mutating func add(_ row: UnsafeBufferPointer<Float>, from first: Int) {
            var floor = found.count == k ? found[k - 1].score : -Float.infinity
            for j in 0..<row.count {
                let score = row[j]
                guard found.count < k || score > floor else { continue }
                var at = found.count
                while at > 0, found[at - 1].score < score { at -= 1 }
                found.insert((first + j, score), at: at)
                if found.count > k { found.removeLast() }
                if found.count == k { floor = found[k - 1].score }
            }
        }
    }

    /// The indices of the `k` highest scores (ties to the earlier one), best first, found in
    /// one pass that keeps only those k, not a sort of the whole row.
    public static func top(_ k: Int, of row: ArraySlice<Float>) -> [Int] {
        guard k > 0 else { return [] }
        var best = Best(k)
        row.withUnsafeBufferPointer { best.add($0, from: 0) }
        return best.found.map(\.index)
    }
}
