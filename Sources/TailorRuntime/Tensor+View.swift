/// Views share storage: reshape (when the layout allows), transpose, permute,
/// slice and expand never copy. `contiguous()` copies only when it must.
extension Tensor {
    /// Same elements, new shape; one dimension may be -1. Copies only a non-contiguous tensor.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var shape = newShape
        if let i = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            shape[i] = known == 0 ? 0 : count / known
        }
        precondition(Tensor.count(shape) == count, "cannot reshape \(self.shape) to \(newShape)")
        let inputShape = self.shape
        if let strides = viewStrides(for: shape) {
            let view = Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
            return Tensor.record("reshape", view, [self]) { g in [g.reshaped(inputShape)] }
        }
        let source = contiguous()
        let view = Tensor(storage: source.storage, shape: shape, offset: source.offset)
        return Tensor.record("reshape", view, [source]) { g in [g.reshaped(inputShape)] }
    }

    /// Strides that show this tensor's elements in `newShape` without moving them, or nil.
    /// Dimensions may be split freely and merged only where they are laid out back to back
    /// (so a slice of the last axis can still be split into heads).
    func viewStrides(for newShape: [Int]) -> [Int]? {
        if isContiguous { return Tensor.contiguousStrides(newShape) }
        let old = zip(shape, strides).filter { $0.0 != 1 }
        let target = newShape.enumerated().filter { $0.element != 1 }
        var result = [Int](repeating: 0, count: newShape.count)
        var oi = 0, ti = 0
        while oi < old.count && ti < target.count {
            // Group old dims (merging contiguous runs) and new dims until the sizes agree.
            var oldSize = old[oi].0, newSize = target[ti].element
            var oj = oi, tj = ti
            while oldSize != newSize {
                if oldSize < newSize {
                    oj += 1
                    guard oj < old.count, old[oj - 1].1 == old[oj].0 * old[oj].1 else { return nil }
                    oldSize *= old[oj].0
                } else {
                    tj += 1
                    guard tj < target.count else { return nil }
                    newSize *= target[tj].element
                }
            }
            // Within the group, the innermost old stride times the new inner sizes.
            var step = old[oj].1
            for k in Swift.stride(from: tj, through: ti, by: -1) {
                result[target[k].offset] = step
                step *= target[k].element
            }
            oi = oj + 1
            ti = tj + 1
        }
        guard oi == old.count, ti == target.count else { return nil }
        for (i, d) in newShape.enumerated() where d == 1 { result[i] = 1 }
        return result
    }

    /// Dimensions reordered; `permuted([1, 0])` is a transpose. No copy.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "\(order) is not a permutation of \(rank) axes")
        let view = Tensor(storage: storage, shape: order.map { shape[$0] }, strides: order.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.record("permute", view, [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two axes (by default the last two). No copy.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(axis(a), axis(b))
        return permuted(order)
    }

    /// Elements `range` along `axis`. No copy.
    public func slice(axis a: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis(a)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "slice \(range) out of \(shape[ax])")
        var newShape = shape
        newShape[ax] = range.count
        let view = Tensor(storage: storage, shape: newShape, strides: strides, offset: offset + range.lowerBound * strides[ax])
        return Tensor.recordSlice(view, of: self, axis: ax, range: range)
    }

    /// Broadcasts size-1 (or missing leading) dimensions to `newShape` with stride 0. No copy.
    public func expanded(to newShape: [Int]) -> Tensor {
        precondition(newShape.count >= rank, "cannot expand \(shape) to \(newShape)")
        let lead = newShape.count - rank
        var newStrides = [Int](repeating: 0, count: newShape.count)
        for i in 0..<rank {
            let target = newShape[lead + i]
            if shape[i] == target {
                newStrides[lead + i] = strides[i]
            } else {
                precondition(shape[i] == 1, "cannot expand \(shape) to \(newShape)")
            }
        }
        let view = Tensor(storage: storage, shape: newShape, strides: newStrides, offset: offset)
        let original = shape
        return Tensor.record("expand", view, [self]) { g in [g.sum(to: original)] }
    }

    /// This tensor if its layout is contiguous, otherwise a contiguous copy (differentiable).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitialized: shape)
        out.assign(self)
        return Tensor.record("contiguous", out, [self]) { g in [g] }
    }

    /// Copies `source` (broadcast to this shape) into this view's elements. Not recorded.
    public func assign(_ source: Tensor) {
        let src = source.shape == shape ? source : source.expanded(to: shape)
        if isContiguous, src.isContiguous {
            let (p, sp) = (UnsafeSendable(pointer), UnsafeSendable(src.pointer))
            Parallel.forEach(count, grain: 1 << 16) { r in (p.value + r.lowerBound).update(from: sp.value + r.lowerBound, count: r.count) }
            return
        }
        Strided.parallelUpdate(shape, (storage.pointer, offset, strides), (src.storage.pointer, src.offset, src.strides), add: false)
    }
}

/// Index walking over strided layouts, innermost dimension in a tight loop.
enum Strided {
    /// Calls `body(offsetA, offsetB)` for every index of `shape`, in row-major order.
    static func forEach2(_ shape: [Int], _ a: (Int, [Int]), _ b: (Int, [Int]), _ body: (Int, Int) -> Void) {
        let n = Tensor.count(shape)
        if n == 0 { return }
        if shape.isEmpty {
            body(a.0, b.0)
            return
        }
        let last = shape.count - 1
        let inner = shape[last], sa = a.1[last], sb = b.1[last]
        var index = [Int](repeating: 0, count: shape.count)
        var oa = a.0, ob = b.0
        while true {
            var ia = oa, ib = ob
            for _ in 0..<inner {
                body(ia, ib)
                ia += sa
                ib += sb
            }
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                oa += a.1[d]
                ob += b.1[d]
                if index[d] < shape[d] { break }
                oa -= a.1[d] * shape[d]
                ob -= b.1[d] * shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }

    /// Copies or adds element-wise from a strided B into a strided A (the destination, whose
    /// elements are distinct), split over the leading dimension and run in parallel when there
    /// is enough work. Innermost runs that are contiguous on both sides (slices of a fused
    /// projection's gradient) go 16 lanes at a time.
    static func parallelUpdate(
        _ shape: [Int], _ a: (UnsafeMutablePointer<Float>, Int, [Int]), _ b: (UnsafeMutablePointer<Float>, Int, [Int]), add: Bool
    ) {
        guard let n = shape.last, Tensor.count(shape) > 0 else {
            if shape.isEmpty { a.0[a.1] = add ? a.0[a.1] + b.0[b.1] : b.0[b.1] }
            return
        }
        let (pa, pb) = (UnsafeSendable(a.0), UnsafeSendable(b.0))
        let (sa, sb) = (a.2[shape.count - 1], b.2[shape.count - 1])
        let run = { (oa: Int, ob: Int) in updateRun(pa.value + oa, sa, pb.value + ob, sb, n, add: add) }
        guard shape.count >= 2 else { return run(a.1, b.1) }
        let rows = shape[0], rowSize = Tensor.count(shape) / rows
        let middle = Array(shape.dropFirst().dropLast())
        let (ma, mb) = (Array(a.2.dropFirst().dropLast()), Array(b.2.dropFirst().dropLast()))
        Parallel.forEach(rows, grain: Swift.max(1, (1 << 16) / Swift.max(1, rowSize))) { range in
            for r in range { forEach2(middle, (a.1 + r * a.2[0], ma), (b.1 + r * b.2[0], mb), run) }
        }
    }

    /// `a[i·sa] (+)= b[i·sb]` for i in 0..<n.
    @inline(__always)
    static func updateRun(
        _ a: UnsafeMutablePointer<Float>, _ sa: Int, _ b: UnsafeMutablePointer<Float>, _ sb: Int, _ n: Int, add: Bool
    ) {
        if sa == 1, sb == 1 {
            if !add { return a.update(from: b, count: n) }
            var i = 0
            while i + Lanes.width <= n {
                Lanes.store(Lanes.load(a, i) + Lanes.load(b, i), a, i)
                i += Lanes.width
            }
            for i in i..<n { a[i] += b[i] }
        } else if add {
            for i in 0..<n { a[i * sa] += b[i * sb] }
        } else {
            for i in 0..<n { a[i * sa] = b[i * sb] }
        }
    }

    /// Calls `body(offsetA, offsetB, offsetC)` for every index of `shape`.
    static func forEach3(
        _ shape: [Int], _ a: (Int, [Int]), _ b: (Int, [Int]), _ c: (Int, [Int]), _ body: (Int, Int, Int) -> Void
    ) {
        let n = Tensor.count(shape)
        if n == 0 { return }
        if shape.isEmpty {
            body(a.0, b.0, c.0)
            return
        }
        let last = shape.count - 1
        let inner = shape[last], sa = a.1[last], sb = b.1[last], sc = c.1[last]
        var index = [Int](repeating: 0, count: shape.count)
        var oa = a.0, ob = b.0, oc = c.0
        while true {
            var ia = oa, ib = ob, ic = oc
            for _ in 0..<inner {
                body(ia, ib, ic)
                ia += sa
                ib += sb
                ic += sc
            }
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                oa += a.1[d]
                ob += b.1[d]
                oc += c.1[d]
                if index[d] < shape[d] { break }
                oa -= a.1[d] * shape[d]
                ob -= b.1[d] * shape[d]
                oc -= c.1[d] * shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}
