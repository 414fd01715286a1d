import Foundation

/// Fused log-softmax + negative log-likelihood over (N, V) logits: never materialises
/// log-probabilities for the backward pass, which is softmax − one-hot per row.
extension Tensor {
    /// Mean cross-entropy of rows whose target is not `ignoreIndex`, each weighted by
    /// `weights[i]` (default 1); the mean divides by the total weight.
    public func crossEntropy(targets: [Int32], ignoreIndex: Int32 = -100, weights: [Float]? = nil) -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let (r, v) = x.rows
        precondition(targets.count == r, "\(targets.count) targets for \(r) rows")
        precondition(weights == nil || weights!.count == r, "one weight per row")
        var total: Double = 0
        var weightSum: Double = 0
        // The loss is summed in row order over the rows' log-sum-exps.
        let (lse, grain) = x.rowLogSumExps()
        for row in 0..<r where targets[row] != ignoreIndex {
            let t = Int(targets[row])
            precondition(t >= 0 && t < v, "target \(t) outside the vocabulary of \(v)")
            let w = Double(weights?[row] ?? 1)
            total += w * Double(lse.pointer[row] - x.pointer[row * v + t])
            weightSum += w
        }
        let loss = Tensor(scalar: weightSum > 0 ? Float(total / weightSum) : 0)
        let inputShape = shape
        return Tensor.record("cross_entropy", loss, [self]) { g in
            let scale = weightSum > 0 ? g.item / Float(weightSum) : 0
            let grad = Tensor(uninitialized: inputShape)
            Parallel.forEach(r, grain: grain) { rows in
                for row in rows {
                    let p = x.pointer + row * v, o = grad.pointer + row * v
                    if targets[row] == ignoreIndex {
                        o.update(repeating: 0, count: v)
                        continue
                    }
                    let w = (weights?[row] ?? 1) * scale
                    let l = lse.pointer[row]
                    for i in 0..<v { o[i] = w * FastMath.expNonPositive(p[i] - l) }
                    o[Int(targets[row])] -= w
                }
            }
            return [grad]
        }
    }
}

extension Tensor {
    /// The log-probability each (N, V) row of logits gives its target: (N), 0 for rows whose
    /// target is `ignoreIndex`. What DPO and PPO sum over an answer's tokens; fused like
    /// `crossEntropy`, its backward is g · (one-hot − softmax) per row.
    public func targetLogProbs(targets: [Int32], ignoreIndex: Int32 = -100) -> Tensor {
        let x = Tensor.noGrad { contiguous() }
        let (r, v) = x.rows
        precondition(targets.count == r, "\(targets.count) targets for \(r) rows")
        let (lse, grain) = x.rowLogSumExps()
        let out = Tensor(uninitialized: [r])
        for row in 0..<r {
            let t = targets[row]
            if t == ignoreIndex {
                out.pointer[row] = 0
            } else {
                precondition(t >= 0 && Int(t) < v, "target \(t) outside the vocabulary of \(v)")
                out.pointer[row] = x.pointer[row * v + Int(t)] - lse.pointer[row]
            }
        }
        let inputShape = shape
        return Tensor.record("target_log_probs", out, [self]) { g in
            let gc = g.contiguous()
            let grad = Tensor(uninitialized: inputShape)
            Parallel.forEach(r, grain: grain) { rows in
                for row in rows {
                    let p = x.pointer + row * v, o = grad.pointer + row * v
                    let w = gc.pointer[row]
                    if targets[row] == ignoreIndex || w == 0 {
                        o.update(repeating: 0, count: v)
                        continue
                    }
                    let l = lse.pointer[row]
                    for i in 0..<v { o[i] = -w * FastMath.expNonPositive(p[i] - l) }
                    o[Int(targets[row])] += w
                }
            }
            return [grad]
        }
    }
}

extension Tensor {
    /// log Σ exp of each row of this contiguous (N, V) tensor: (N), and the row grain the
    /// backward passes reuse. Rows in parallel (they are independent), exps through a scratch
    /// row so the exp loop vectorises.
    func rowLogSumExps() -> (Tensor, grain: Int) {
        let (r, v) = rows
        let lse = Tensor(uninitialized: [r])
        let grain = Swift.max(1, 16_384 / Swift.max(1, v))
        Parallel.forEach(r, grain: grain) { rows in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: v)
            defer { scratch.deallocate() }
            for row in rows {
                let p = self.pointer + row * v
                var m = -Float.infinity
                for i in 0..<v where p[i] > m { m = p[i] }
                for i in 0..<v { scratch[i] = FastMath.expNonPositive(p[i] - m) }
                var s: Float = 0
                for i in 0..<v { s += scratch[i] }
                lse.pointer[row] = m + Foundation.log(s)
            }
        }
        return (lse, grain)
    }
}
