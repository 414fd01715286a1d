import Foundation

/// Elementwise functions. Each backward reads the saved input `x` and/or output `y`.
extension Tensor {
    /// Applies `f` to every element; `derivative(g, x, y)` gives the input gradient.
    func map(
        _ name: String, _ f: @escaping (Float) -> Float, derivative: @escaping (_ g: Tensor, _ x: Tensor, _ y: Tensor) -> Tensor
    ) -> Tensor {
        let src = Tensor.noGrad { contiguous() }
        let out = Tensor(uninitialized: shape)
        let p = src.pointer, o = out.pointer
        Parallel.forEach(count, grain: 1 << 14) { r in for i in r { o[i] = f(p[i]) } }
        let saved = out.detached()  // the closure must not hold `out`, which holds the closure
        return Tensor.record(name, out, [self]) { g in [derivative(g, src, saved)] }
    }

    /// Elementwise product of a gradient with a function of x and y, in one pass.
    static func chain(_ g: Tensor, _ x: Tensor, _ y: Tensor, _ f: @escaping (Float, Float, Float) -> Float) -> Tensor {
        let gc = g.contiguous()
        defer { withExtendedLifetime(gc) {} }  // a copy read through `pg` only: kept to the end (Swift keeps objects only to their last use)
        let out = Tensor(uninitialized: x.shape)
        let pg = gc.pointer, px = x.pointer, py = y.pointer, o = out.pointer
        Parallel.forEach(out.count, grain: 1 << 14) { r in for i in r { o[i] = f(pg[i], px[i], py[i]) } }
        return out
    }

    public func exp() -> Tensor { map("exp", { Foundation.exp($0) }) { g, x, y in Tensor.chain(g, x, y) { g, _, y in g * y } } }
    public func log() -> Tensor { map("log", { Foundation.log($0) }) { g, x, y in Tensor.chain(g, x, y) { g, x, _ in g / x } } }
    public func sqrt() -> Tensor { map("sqrt", { $0.squareRoot() }) { g, x, y in Tensor.chain(g, x, y) { g, _, y in g * 0.5 / y } } }
    public func rsqrt() -> Tensor {
        map("rsqrt", { 1 / $0.squareRoot() }) { g, x, y in Tensor.chain(g, x, y) { g, _, y in -0.5 * g * y * y * y } }
    }
    public func tanh() -> Tensor { map("tanh", { FastMath.tanh($0) }) { g, x, y in Tensor.chain(g, x, y) { g, _, y in g * (1 - y * y) } } }
    public func sigmoid() -> Tensor {
        let src = Tensor.noGrad { contiguous() }
        let out = Tensor(uninitialized: shape)
        let (px, po) = (src.pointer, out.pointer)
        Parallel.forEach(count, grain: 1 << 14) { r in for i in r { po[i] = FastMath.sigmoid(px[i]) } }
        let saved = out.detached()
        return Tensor.record("sigmoid", out, [self]) { g in [Tensor.chain(g, src, saved) { g, _, y in g * y * (1 - y) }] }
    }
    /// log σ(x), stable for any x: min(x, 0) − log(1 + e^−|x|) (preference losses:
    /// −log σ(r_chosen − r_rejected)); its derivative is σ(−x).
    public func logSigmoid() -> Tensor {
        map("log_sigmoid", { x in Swift.min(x, 0) - Foundation.log1p(Foundation.exp(-Swift.abs(x))) }) { g, x, y in
            Tensor.chain(g, x, y) { g, x, _ in g * FastMath.sigmoid(-x) }
        }
    }
    public func relu() -> Tensor { map("relu", { Swift.max(0, $0) }) { g, x, y in Tensor.chain(g, x, y) { g, x, _ in x > 0 ? g : 0 } } }
    public func square() -> Tensor { map("square", { $0 * $0 }) { g, x, y in Tensor.chain(g, x, y) { g, x, _ in 2 * g * x } } }

    /// GELU, tanh approximation (GPT-2's): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    /// Plain loops over a branch-free tanh, which the compiler vectorises.
    public func gelu() -> Tensor {
        let src = Tensor.noGrad { contiguous() }
        let out = Tensor(uninitialized: shape)
        let (px, po, n) = (src.pointer, out.pointer, count)
        Parallel.forEach(n, grain: 1 << 14) { r in
            for i in r {
                let x = px[i]
                po[i] = 0.5 * x * (1 + FastMath.tanh(0.797_884_56 * (x + 0.044715 * x * x * x)))
            }
        }
        return Tensor.record("gelu", out, [self]) { g in
            let gc = g.contiguous()
            defer { withExtendedLifetime(gc) {} }  // read through `pg` only (see `chain`)
            let dx = Tensor(uninitialized: src.shape)
            let (pg, pd) = (gc.pointer, dx.pointer)
            Parallel.forEach(n, grain: 1 << 14) { r in
                for i in r {
                    let x = px[i], x2 = x * x
                    let t = FastMath.tanh(0.797_884_56 * (x + 0.044715 * x2 * x))
                    let slope = 0.797_884_56 * (1 + 0.134_145 * x2)  // d(inner)/dx
                    pd[i] = pg[i] * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope)
                }
            }
            return [dx]
        }
    }

    /// GELU, exact form (BERT's): x·Φ(x) = 0.5·x·(1 + erf(x/√2)), through libm's `erff`.
    public func geluExact() -> Tensor {
        let src = Tensor.noGrad { contiguous() }
        let out = Tensor(uninitialized: shape)
        let (px, po, n) = (src.pointer, out.pointer, count)
        Parallel.forEach(n, grain: 1 << 14) { r in for i in r { po[i] = 0.5 * px[i] * (1 + Foundation.erf(px[i] * 0.707_106_78)) } }
        return Tensor.record("gelu_exact", out, [self]) { g in
            let gc = g.contiguous()
            defer { withExtendedLifetime(gc) {} }  // read through `pg` only (see `chain`)
            let dx = Tensor(uninitialized: src.shape)
            let (pg, pd) = (gc.pointer, dx.pointer)
            Parallel.forEach(n, grain: 1 << 14) { r in
                for i in r {
                    let x = px[i]  // Φ(x) + x·φ(x)
                    pd[i] = pg[i] * (0.5 * (1 + Foundation.erf(x * 0.707_106_78)) + x * 0.398_942_28 * Foundation.exp(-0.5 * x * x))
                }
            }
            return [dx]
        }
    }

    /// SiLU (swish): x·σ(x), Llama's MLP activation; plain loops over a branch-free
    /// sigmoid, which vectorise.
    public func silu() -> Tensor {
        let src = Tensor.noGrad { contiguous() }
        let out = Tensor(uninitialized: shape)
        let (px, po, n) = (src.pointer, out.pointer, count)
        Parallel.forEach(n, grain: 1 << 14) { r in for i in r { po[i] = px[i] * FastMath.sigmoid(px[i]) } }
        return Tensor.record("silu", out, [self]) { g in
            let gc = g.contiguous()
            defer { withExtendedLifetime(gc) {} }  // read through `pg` only (see `chain`)
            let dx = Tensor(uninitialized: src.shape)
            let (pg, pd) = (gc.pointer, dx.pointer)
            Parallel.forEach(n, grain: 1 << 14) { r in
                for i in r {
                    let x = px[i], s = FastMath.sigmoid(x)
                    pd[i] = pg[i] * s * (1 + x * (1 - s))
                }
            }
            return [dx]
        }
    }
}
