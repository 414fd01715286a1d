/// Token embedding lookup and its scatter-add backward.
extension Tensor {
    /// Rows of this (V, C) table for each id: ids of shape S give (S…, C).
    public func embedding(_ ids: [Int32], shape idShape: [Int]) -> Tensor {
        precondition(rank == 2 && ids.count == Tensor.count(idShape), "embedding needs a (V, C) table and ids filling \(idShape)")
        let table = Tensor.noGrad { contiguous() }
        let v = shape[0], c = shape[1]
        let out = Tensor(zeros: idShape + [c])
        for (i, id) in ids.enumerated() {
            precondition(id >= 0 && Int(id) < v, "token id \(id) outside the vocabulary of \(v)")
            (out.pointer + i * c).update(from: table.pointer + Int(id) * c, count: c)
        }
        return Tensor.record("embedding", out, [self]) { g in
            let gc = g.contiguous()
            let grad = Tensor(zeros: [v, c])
            for (i, id) in ids.enumerated() {
                let dst = grad.pointer + Int(id) * c, src = gc.pointer + i * c
                for j in 0..<c { dst[j] += src[j] }
            }
            return [grad]
        }
    }
}
