/// Index-based selection along the last axis.
extension Tensor {
    /// Picks `indices` (shape (…, K)) from the last axis of this (…, N) tensor: (…, K).
    /// The gradient scatters back to the picked positions (repeats accumulate).
    public func gather(_ indices: [Int32], k: Int) -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let (r, n) = x.rows
        precondition(indices.count == r * k, "\(indices.count) indices for \(r) rows of \(k)")
        let out = Tensor(uninitialized: Array(shape.dropLast()) + [k])
        for row in 0..<r {
            for j in 0..<k {
                let index = Int(indices[row * k + j])
                precondition(index >= 0 && index < n, "index \(index) outside \(n)")
                out.pointer[row * k + j] = x.pointer[row * n + index]
            }
        }
        let inputShape = shape
        return Tensor.record("gather", out, [self]) { g in
            let gc = g.contiguous()
            let grad = Tensor(zeros: inputShape)
            for row in 0..<r {
                for j in 0..<k { grad.pointer[row * n + Int(indices[row * k + j])] += gc.pointer[row * k + j] }
            }
            return [grad]
        }
    }

    /// The `k` largest values along the last axis (ties: lower index first) and their indices.
    public func topK(_ k: Int) -> (values: Tensor, indices: [Int32]) {
        let x = Tensor.noGrad { contiguous() }
        let (r, n) = x.rows
        precondition(k >= 1 && k <= n, "top-\(k) of \(n)")
        var indices = [Int32](repeating: 0, count: r * k)
        for row in 0..<r {
            let p = x.pointer + row * n
            let order = (0..<n).sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
            for j in 0..<k { indices[row * k + j] = Int32(order[j]) }
        }
        return (gather(indices, k: k), indices)
    }
}
