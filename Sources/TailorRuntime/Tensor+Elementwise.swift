import Foundation

/// Binary arithmetic with NumPy-style broadcasting. Gradients of broadcast inputs are
/// summed back to the input's shape.
extension Tensor {
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = Swift.max(a.count, b.count)
        return (0..<n).map { i in
            let x = i < n - a.count ? 1 : a[i - (n - a.count)]
            let y = i < n - b.count ? 1 : b[i - (n - b.count)]
            precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast")
            return Swift.max(x, y)
        }
    }

    /// Applies `f` elementwise over the broadcast of `a` and `b` into a new contiguous tensor.
    @inline(__always)
    static func zipMap(_ a: Tensor, _ b: Tensor, _ f: @escaping (Float, Float) -> Float) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape)
        let out = Tensor(uninitialized: shape)
        let o = out.pointer
        let n = out.count
        if a.shape == shape, b.shape == shape, a.isContiguous, b.isContiguous {
            let pa = a.pointer, pb = b.pointer
            Parallel.forEach(n, grain: 1 << 15) { r in for i in r { o[i] = f(pa[i], pb[i]) } }
        } else if b.count == 1, a.shape == shape, a.isContiguous {
            let pa = a.pointer, s = b.pointer[0]
            Parallel.forEach(n, grain: 1 << 15) { r in for i in r { o[i] = f(pa[i], s) } }
        } else if a.shape == shape, a.isContiguous, b.isContiguous, let inner = b.shape.last, inner > 0,
            b.count == inner, shape.last == inner
        {
            // A row vector broadcast over rows (bias add): the most common broadcast.
            let pa = a.pointer, pb = b.pointer
            Parallel.forEach(n / inner, grain: Swift.max(1, (1 << 15) / inner)) { rows in
                for row in rows {
                    let base = row * inner
                    for j in 0..<inner { o[base + j] = f(pa[base + j], pb[j]) }
                }
            }
        } else {
            let ea = a.shape == shape ? a : a.expandedView(shape)
            let eb = b.shape == shape ? b : b.expandedView(shape)
            var i = 0
            let pa = ea.storage.pointer, pb = eb.storage.pointer
            Strided.forEach2(shape, (ea.offset, ea.strides), (eb.offset, eb.strides)) { x, y in
                o[i] = f(pa[x], pb[y])
                i += 1
            }
        }
        return out
    }

    /// An expanded view without recording (for kernels).
    func expandedView(_ shape: [Int]) -> Tensor { Tensor.noGrad { expanded(to: shape) } }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (sa, sb) = (a.shape, b.shape)
        return record("add", arithmetic(a, b, .add), [a, b]) { g in [g.sum(to: sa), g.sum(to: sb)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (sa, sb) = (a.shape, b.shape)
        return record("sub", arithmetic(a, b, .sub), [a, b]) { g in [g.sum(to: sa), (-g).sum(to: sb)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let (sa, sb) = (a.shape, b.shape)
        return record("mul", arithmetic(a, b, .mul), [a, b]) { g in
            [a.requiresGrad ? (g * b).sum(to: sa) : nil, b.requiresGrad ? (g * a).sum(to: sb) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let (sa, sb) = (a.shape, b.shape)
        return record("div", arithmetic(a, b, .div), [a, b]) { g in
            [a.requiresGrad ? (g / b).sum(to: sa) : nil, b.requiresGrad ? (-(g * a) / (b * b)).sum(to: sb) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        record("neg", arithmetic(a, Tensor(scalar: -1), .mul), [a]) { g in [-g] }
    }

    enum Arithmetic { case add, sub, mul, div }

    /// The four operators with the operation chosen outside the loop, so each common
    /// layout (same shape, scalar, row vector) runs a plain vectorisable loop; other
    /// broadcasts take the general strided path.
    static func arithmetic(_ a: Tensor, _ b: Tensor, _ op: Arithmetic) -> Tensor {
        let shape = broadcastShape(a.shape, b.shape)
        guard a.shape == shape, a.isContiguous, b.isContiguous else {
            switch op {
            case .add: return zipMap(a, b, +)
            case .sub: return zipMap(a, b, -)
            case .mul: return zipMap(a, b, *)
            case .div: return zipMap(a, b, /)
            }
        }
        let out = Tensor(uninitialized: shape)
        let n = out.count, o = out.pointer, pa = a.pointer, pb = b.pointer
        // b's period: the whole tensor, a scalar (1) or a row (the last dimension).
        let period: Int
        if b.shape == shape {
            period = n
        } else if b.count == 1 {
            period = 1
        } else if let inner = shape.last, b.count == inner, b.shape.last == inner {
            period = inner
        } else {
            switch op {
            case .add: return zipMap(a, b, +)
            case .sub: return zipMap(a, b, -)
            case .mul: return zipMap(a, b, *)
            case .div: return zipMap(a, b, /)
            }
        }
        Parallel.forEach(n, grain: 1 << 15) { r in
            if period == 1 {
                let s = pb[0]
                switch op {
                case .add: for i in r { o[i] = pa[i] + s }
                case .sub: for i in r { o[i] = pa[i] - s }
                case .mul: for i in r { o[i] = pa[i] * s }
                case .div: for i in r { o[i] = pa[i] / s }
                }
                return
            }
            var i = r.lowerBound
            while i < r.upperBound {
                let j0 = i % period
                let len = Swift.min(r.upperBound - i, period - j0)
                let (x, y, z) = (pa + i, pb + j0, o + i)
                switch op {
                case .add: for j in 0..<len { z[j] = x[j] + y[j] }
                case .sub: for j in 0..<len { z[j] = x[j] - y[j] }
                case .mul: for j in 0..<len { z[j] = x[j] * y[j] }
                case .div: for j in 0..<len { z[j] = x[j] / y[j] }
                }
                i += len
            }
        }
        return out
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a + Tensor(scalar: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a - Tensor(scalar: s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a * Tensor(scalar: s) }
    public static func / (a: Tensor, s: Float) -> Tensor { a / Tensor(scalar: s) }

    /// Elements of `a` where `mask` is nonzero, of `b` elsewhere; the mask gets no gradient.
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(mask.shape, broadcastShape(a.shape, b.shape))
        let m = mask.expandedView(shape).contiguous()
        let picked = zipMap(zipMap(m, a.expandedView(shape), { $0 != 0 ? $1 : 0 }), zipMap(m, b.expandedView(shape), { $0 != 0 ? 0 : $1 }), +)
        let (sa, sb) = (a.shape, b.shape)
        return record("where", picked, [a, b]) { g in
            [zipMap(m, g, { $0 != 0 ? $1 : 0 }).sum(to: sa), zipMap(m, g, { $0 != 0 ? 0 : $1 }).sum(to: sb)]
        }
    }
}
