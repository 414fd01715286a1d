/// Joining and splitting along an axis.
extension Tensor {
    /// Tensors joined along `axis`; all other dimensions must agree.
    public static func concat(_ parts: [Tensor], axis a: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat of nothing")
        let ax = parts[0].axis(a)
        var shape = parts[0].shape
        shape[ax] = parts.reduce(0) { $0 + $1.shape[ax] }
        let out = Tensor(zeros: shape)
        var start = 0
        var ranges: [Range<Int>] = []
        for p in parts {
            let range = start..<(start + p.shape[ax])
            noGrad { out.slice(axis: ax, range).assign(p) }
            ranges.append(range)
            start = range.upperBound
        }
        return record("concat", out, parts) { g in ranges.map { g.slice(axis: ax, $0) } }
    }

    /// Pieces of the given sizes along `axis` (views).
    public func split(sizes: [Int], axis a: Int) -> [Tensor] {
        let ax = axis(a)
        precondition(sizes.reduce(0, +) == shape[ax], "sizes \(sizes) do not add up to \(shape[ax])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: ax, start..<(start + size))
        }
    }
}
