/// Layer norm and RMS norm over the last axis, fused: the forward saves exactly what
/// the backward needs (the normalised values and 1/σ per row).
extension Tensor {
    /// `(x − mean) / √(var + eps) · weight + bias` over the last axis; weight and bias are (C).
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float = 1e-5) -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let (r, c) = x.rows
        let norm = Tensor(uninitialized: shape)  // (…, C)
        let rstd = Tensor(uninitialized: [r])
        let y = Tensor(uninitialized: shape)
        let w = Tensor.noGrad { weight.contiguous() }, b = Tensor.noGrad { bias.contiguous() }
        let grain = Swift.max(1, 4096 / Swift.max(1, c))
        Parallel.forEach(r, grain: grain) { rows in for row in rows {
            let p = x.pointer + row * c, nrm = norm.pointer + row * c, o = y.pointer + row * c
            let mean = Lanes.sum(c, lanes: { Lanes.load(p, $0) }, scalar: { p[$0] }) / Float(c)
            let variance = Lanes.sum(c, lanes: { i in
                let d = Lanes.load(p, i) - mean
                return d * d
            }, scalar: { i in (p[i] - mean) * (p[i] - mean) }) / Float(c)
            let rs = 1 / (variance + eps).squareRoot()
            rstd.pointer[row] = rs
            for i in 0..<c {
                nrm[i] = (p[i] - mean) * rs
                o[i] = nrm[i] * w.pointer[i] + b.pointer[i]
            }
        } }
        return Tensor.record("layer_norm", y, [self, weight, bias]) { [requiresGrad] g in
            let gc = g.contiguous()
            let dx = Tensor(uninitialized: norm.shape)
            // Weight and bias gradients sum over rows: per-chunk partials, combined in chunk order.
            let chunks = Parallel.chunkCount(r, grain: grain)
            let partial = Tensor(zeros: [chunks, 2, c])
            Parallel.forEachChunk(r, grain: grain) { chunk, rows in
                let pdw = partial.pointer + chunk * 2 * c, pdb = pdw + c
                let pw = w.pointer
                for row in rows {
                    let pg = gc.pointer + row * c, nrm = norm.pointer + row * c, o = dx.pointer + row * c
                    for i in 0..<c {
                        pdw[i] += pg[i] * nrm[i]
                        pdb[i] += pg[i]
                    }
                    let meanD = Lanes.sum(c, lanes: { Lanes.load(pg, $0) * Lanes.load(pw, $0) }, scalar: { pg[$0] * pw[$0] }) / Float(c)
                    let meanDN = Lanes.sum(c, lanes: { i in Lanes.load(pg, i) * Lanes.load(pw, i) * Lanes.load(nrm, i) },
                                           scalar: { i in pg[i] * pw[i] * nrm[i] }) / Float(c)
                    let rs = rstd.pointer[row]
                    for i in 0..<c { o[i] = rs * (pg[i] * w.pointer[i] - meanD - nrm[i] * meanDN) }
                }
            }
            let sums = partial.sum(axes: [0])  // (2, C), chunk order
            return [requiresGrad ? dx : nil, sums.slice(axis: 0, 0..<1).reshaped([c]), sums.slice(axis: 0, 1..<2).reshaped([c])]
        }
    }

    /// `x / √(mean(x²) + eps) · weight` over the last axis (Llama's norm).
    public func rmsNorm(weight: Tensor, eps: Float = 1e-5) -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let (r, c) = x.rows
        let norm = Tensor(uninitialized: shape)  // (…, C)
        let rinv = Tensor(uninitialized: [r])
        let y = Tensor(uninitialized: shape)
        let w = Tensor.noGrad { weight.contiguous() }
        let grain = Swift.max(1, 4096 / Swift.max(1, c))
        Parallel.forEach(r, grain: grain) { rows in for row in rows {
            let p = x.pointer + row * c, nrm = norm.pointer + row * c, o = y.pointer + row * c
            let ms = Lanes.sum(c, lanes: { Lanes.load(p, $0) * Lanes.load(p, $0) }, scalar: { p[$0] * p[$0] })
            let ri = 1 / (ms / Float(c) + eps).squareRoot()
            rinv.pointer[row] = ri
            for i in 0..<c {
                nrm[i] = p[i] * ri
                o[i] = nrm[i] * w.pointer[i]
            }
        } }
        return Tensor.record("rms_norm", y, [self, weight]) { [requiresGrad] g in
            let gc = g.contiguous()
            let dx = Tensor(uninitialized: norm.shape)
            // The weight gradient sums over rows: per-chunk partials, combined in chunk order.
            let partial = Tensor(zeros: [Parallel.chunkCount(r, grain: grain), c])
            Parallel.forEachChunk(r, grain: grain) { chunk, rows in
                let pdw = partial.pointer + chunk * c, pw = w.pointer
                for row in rows {
                    let pg = gc.pointer + row * c, nrm = norm.pointer + row * c, o = dx.pointer + row * c
                    for i in 0..<c { pdw[i] += pg[i] * nrm[i] }
                    let meanDN = Lanes.sum(c, lanes: { i in Lanes.load(pg, i) * Lanes.load(pw, i) * Lanes.load(nrm, i) },
                                           scalar: { i in pg[i] * pw[i] * nrm[i] }) / Float(c)
                    let ri = rinv.pointer[row]
                    for i in 0..<c { o[i] = ri * (pg[i] * pw[i] - nrm[i] * meanDN) }
                }
            }
            return [requiresGrad ? dx : nil, partial.sum(axes: [0])]
        }
    }
}
