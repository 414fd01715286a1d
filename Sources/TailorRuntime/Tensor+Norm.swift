/// Layer norm and RMS norm over the last axis, fused: the forward saves exactly what
/// the backward needs (the normalised values and 1/σ per row).
extension Tensor {
    /// `(x − mean) / √(var + eps) · weight + bias` over the last axis; weight and bias are (C).
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float = 1e-5) -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let (r, c) = x.rows
        let norm = Tensor(zeros: shape)  // (…, C)
        let rstd = Tensor(zeros: [r])
        let y = Tensor(zeros: shape)
        let w = Tensor.noGrad { weight.contiguous() }, b = Tensor.noGrad { bias.contiguous() }
        let grain = Swift.max(1, 4096 / Swift.max(1, c))
        Parallel.forEach(r, grain: grain) { rows in for row in rows {
            let p = x.pointer + row * c, nrm = norm.pointer + row * c, o = y.pointer + row * c
            var mean: Float = 0
            for i in 0..<c { mean += p[i] }
            mean /= Float(c)
            var variance: Float = 0
            for i in 0..<c { variance += (p[i] - mean) * (p[i] - mean) }
            variance /= Float(c)
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
                for row in rows {
                    let pg = gc.pointer + row * c, nrm = norm.pointer + row * c, o = dx.pointer + row * c
                    var meanD: Float = 0, meanDN: Float = 0
                    for i in 0..<c {
                        let d = pg[i] * w.pointer[i]
                        meanD += d
                        meanDN += d * nrm[i]
                        pdw[i] += pg[i] * nrm[i]
                        pdb[i] += pg[i]
                    }
                    meanD /= Float(c)
                    meanDN /= Float(c)
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
        let norm = Tensor(zeros: shape)
        let rinv = Tensor(zeros: [r])
        let y = Tensor(zeros: shape)
        let w = Tensor.noGrad { weight.contiguous() }
        for row in 0..<r {
            let p = x.pointer + row * c, nrm = norm.pointer + row * c, o = y.pointer + row * c
            var ms: Float = 0
            for i in 0..<c { ms += p[i] * p[i] }
            let ri = 1 / (ms / Float(c) + eps).squareRoot()
            rinv.pointer[row] = ri
            for i in 0..<c {
                nrm[i] = p[i] * ri
                o[i] = nrm[i] * w.pointer[i]
            }
        }
        return Tensor.record("rms_norm", y, [self, weight]) { [requiresGrad] g in
            let gc = g.contiguous()
            let dx = Tensor(zeros: norm.shape), dw = Tensor(zeros: [c])
            for row in 0..<r {
                let pg = gc.pointer + row * c, nrm = norm.pointer + row * c, o = dx.pointer + row * c
                var meanDN: Float = 0
                for i in 0..<c {
                    meanDN += pg[i] * w.pointer[i] * nrm[i]
                    dw.pointer[i] += pg[i] * nrm[i]
                }
                meanDN /= Float(c)
                let ri = rinv.pointer[row]
                for i in 0..<c { o[i] = ri * (pg[i] * w.pointer[i] - nrm[i] * meanDN) }
            }
            return [requiresGrad ? dx : nil, dw]
        }
    }
}
