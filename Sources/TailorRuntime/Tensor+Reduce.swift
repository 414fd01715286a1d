/// Reductions along axes in a fixed order, so results do not depend on threads.
extension Tensor {
    /// Sums along `axes` (all axes when empty).
    public func sum(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = axes.isEmpty ? Array(0..<rank) : axes.map(axis).sorted()
        var out = Tensor.noGrad { contiguous() }
        for a in ax.reversed() { out = out.sumAxis(a) }
        var keptShape = shape
        for a in ax { keptShape[a] = 1 }
        let result = keepDims ? out : Tensor(storage: out.storage, shape: shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
        let inputShape = shape
        return Tensor.record("sum", result, [self]) { g in [g.reshaped(keptShape).expanded(to: inputShape).contiguous()] }
    }

    public func mean(axes: [Int] = [], keepDims: Bool = false) -> Tensor {
        let ax = axes.isEmpty ? Array(0..<rank) : axes.map(axis)
        let n = ax.reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }

    /// Maximum along one axis; the gradient goes to the first maximal element.
    public func max(axis a: Int, keepDims: Bool = false) -> Tensor {
        let ax = axis(a)
        let src = Tensor.noGrad { contiguous() }
        let reduced = src.reduceAxis(ax) { acc, p, n, stride in
            var m = -Float.infinity
            for i in 0..<n where p[i * stride] > m { m = p[i * stride] }
            acc.pointee = m
        }
        var keptShape = shape
        keptShape[ax] = 1
        var outShape = shape
        outShape.remove(at: ax)
        let result = keepDims ? reduced : Tensor(storage: reduced.storage, shape: outShape)
        let indices = src.argmax(axis: ax)
        let inputShape = shape
        return Tensor.record("max", result, [self]) { g in
            let out = Tensor(zeros: inputShape)
            let gc = g.contiguous()
            let (outer, n, inner) = Tensor.split(inputShape, ax)
            for o in 0..<outer {
                for i in 0..<inner {
                    let k = indices[o * inner + i]
                    out.pointer[(o * n + k) * inner + i] = gc.pointer[o * inner + i]
                }
            }
            return [out]
        }
    }

    /// Index of the first maximum along `axis`, for each position of the other axes.
    public func argmax(axis a: Int) -> [Int] {
        let ax = axis(a)
        let src = contiguous()
        let (outer, n, inner) = Tensor.split(shape, ax)
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var m = -Float.infinity
                for k in 0..<n {
                    let v = src.pointer[(o * n + k) * inner + i]
                    if v > m {
                        m = v
                        best = k
                    }
                }
                result[o * inner + i] = best
            }
        }
        return result
    }

    /// Sums broadcast dimensions away so the result has `target` shape (the adjoint of broadcasting).
    public func sum(to target: [Int]) -> Tensor {
        if shape == target { return self }
        var t = self
        let lead = rank - target.count
        if lead > 0 { t = t.sum(axes: Array(0..<lead)) }
        let axes = target.indices.filter { target[$0] == 1 && t.shape[$0] != 1 }
        if !axes.isEmpty { t = t.sum(axes: axes, keepDims: true) }
        return t.shape == target ? t : t.reshaped(target)
    }

    /// Sum over one axis of a contiguous tensor, keeping it as size 1. Rows are added in
    /// index order (vectorised across the inner dimension), the same order for any thread count.
    func sumAxis(_ ax: Int) -> Tensor {
        let (outer, n, inner) = Tensor.split(shape, ax)
        var outShape = shape
        outShape[ax] = 1
        let out = Tensor(zeros: outShape)
        let src = pointer, dst = out.pointer
        if inner == 1 {
            Parallel.forEach(outer, grain: Swift.max(1, 8192 / Swift.max(1, n))) { r in
                for o in r {
                    var s: Float = 0
                    let p = src + o * n
                    for i in 0..<n { s += p[i] }
                    dst[o] = s
                }
            }
            return out
        }
        Parallel.forEach(inner, grain: 256) { cols in
            for o in 0..<outer {
                let acc = dst + o * inner
                for k in 0..<n {
                    let row = src + (o * n + k) * inner
                    for i in cols { acc[i] += row[i] }
                }
            }
        }
        return out
    }

    /// (outer, n, inner) sizes around `axis` for contiguous layouts.
    static func split(_ shape: [Int], _ axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    /// Reduces one axis of a contiguous tensor with `kernel(out, first, n, stride)`, keeping the axis as size 1.
    func reduceAxis(_ ax: Int, _ kernel: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) -> Tensor {
        let (outer, n, inner) = Tensor.split(shape, ax)
        var outShape = shape
        outShape[ax] = 1
        let out = Tensor(zeros: outShape)
        for o in 0..<outer {
            for i in 0..<inner { kernel(out.pointer + o * inner + i, pointer + o * n * inner + i, n, inner) }
        }
        return out
    }
}
