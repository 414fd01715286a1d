import Foundation

/// Softmax and log-softmax over the last axis, stabilised by subtracting the row maximum.
extension Tensor {
    /// Writes softmax(p[0..<n]) to `o` (which may be `p`) and returns the row's
    /// log-sum-exp; the row maximum is subtracted first so no exp overflows.
    @inline(__always)
    static func softmaxRow(_ p: UnsafePointer<Float>, into o: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<n where p[i] > m { m = p[i] }
        for i in 0..<n { o[i] = FastMath.expNonPositive(p[i] - m) }
        var s: Float = 0
        for i in 0..<n { s += o[i] }
        let inv = 1 / s
        for i in 0..<n { o[i] *= inv }
        return m + Foundation.log(s)
    }

    /// Rows of the last axis of a contiguous tensor: (count of rows, row length).
    var rows: (Int, Int) { (count / Swift.max(1, shape.last ?? 1), shape.last ?? 1) }

    public func softmax() -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let y = Tensor(uninitialized: shape)
        let (r, n) = x.rows
        Parallel.forEach(r, grain: Swift.max(1, 8192 / Swift.max(1, n))) { rows in for row in rows {
            _ = Tensor.softmaxRow(x.pointer + row * n, into: y.pointer + row * n, n)
        } }
        let saved = y.detached()
        return Tensor.record("softmax", y, [self]) { g in
            let gc = g.contiguous()
            let out = Tensor(zeros: saved.shape)
            Parallel.forEach(r, grain: Swift.max(1, 8192 / Swift.max(1, n))) { rows in for row in rows {
                let pg = gc.pointer + row * n, py = saved.pointer + row * n, o = out.pointer + row * n
                var dot: Float = 0
                for i in 0..<n { dot += pg[i] * py[i] }
                for i in 0..<n { o[i] = py[i] * (pg[i] - dot) }
            } }
            return [out]
        }
    }

    public func logSoftmax() -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let y = Tensor(uninitialized: shape)
        let (r, n) = x.rows
        Parallel.forEach(r, grain: Swift.max(1, 8192 / Swift.max(1, n))) { rows in for row in rows {
            let p = x.pointer + row * n, o = y.pointer + row * n
            let lse = Tensor.softmaxRow(p, into: o, n)  // o is scratch here
            for i in 0..<n { o[i] = p[i] - lse }
        } }
        let saved = y.detached()
        return Tensor.record("log_softmax", y, [self]) { g in
            let gc = g.contiguous()
            let out = Tensor(zeros: saved.shape)
            Parallel.forEach(r, grain: Swift.max(1, 8192 / Swift.max(1, n))) { rows in for row in rows {
                let pg = gc.pointer + row * n, py = saved.pointer + row * n, o = out.pointer + row * n
                var s: Float = 0
                for i in 0..<n { s += pg[i] }
                for i in 0..<n { o[i] = pg[i] - Foundation.exp(py[i]) * s }
            } }
            return [out]
        }
    }
}
