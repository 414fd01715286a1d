import Foundation

/// Scaled dot-product attention, fused per head: scores for one (batch, head) at a
/// time through BLAS, so neither pass holds the B×H×T×T probabilities. The forward
/// saves only each row's log-sum-exp; the backward recomputes probabilities head by head.
extension Tensor {
    /// `softmax(Q·Kᵀ·scale [causal]) · V` for (B, H, T, D) inputs, which may be strided views
    /// (e.g. heads permuted out of a (B, T, H, D) projection: read in place, not copied).
    /// The result is a (B, H, T, D) view over (B, T, H, D) storage, so merging heads back is free.
    /// Grouped-query attention: K and V may have fewer heads (B, Hkv, T, D), Hkv dividing H;
    /// query head i reads key/value head i / (H / Hkv).
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = true, scale: Float? = nil) -> Tensor {
        precondition(q.rank == 4 && k.shape == v.shape && k.rank == 4 && q.shape[0] == k.shape[0]
                     && Array(q.shape[2...]) == Array(k.shape[2...]) && q.shape[1] % k.shape[1] == 0,
                     "attention needs (B, H, T, D) queries and (B, Hkv, T, D) keys and values with Hkv dividing H")
        let (b, h, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let hkv = k.shape[1], group = h / hkv
        let s = scale ?? 1 / Float(d).squareRoot()
        let out = headsMajor(b, h, t, d)  // (B, H, T, D) view over (B, T, H, D)
        let lse = Tensor(uninitialized: [b, h, t])
        // Heads run in parallel, each with its own score block.
        Parallel.forEach(b * h, grain: 1) { heads in
            let scores = Tensor(uninitialized: [t, t])
            for index in heads {
                let (bi, hi) = (index / h, index % h)
                let (qm, km, vm, om) = (q.head(bi, hi), k.head(bi, hi / group), v.head(bi, hi / group), out.head(bi, hi))
                gemm(qm, km.transposed(), into: scores.pointer, ldc: t, parallel: false)  // (T, T)
                softmaxRows(scores.pointer, t, scale: s, causal: causal, lse: lse.pointer + index * t)
                gemm(scores, vm, into: om.pointer, ldc: om.strides[0], parallel: false)  // (T, D)
            }
        }
        return record("attention", out, [q, k, v]) { g in
            let dq = headsMajor(b, h, t, d), dk = headsMajor(b, hkv, t, d), dv = headsMajor(b, hkv, t, d)
            /// One query head's gradients; its key/value head's gradients are overwritten by
            /// the group's first query head and accumulated by the others. `p` and `dp` are
            /// (T, T) scratch blocks.
            func backwardHead(_ bi: Int, _ hi: Int, p: Tensor, dp: Tensor) {
                let kvi = hi / group, first = hi % group == 0
                let (qm, km, vm, om, gm) = (q.head(bi, hi), k.head(bi, kvi), v.head(bi, kvi), out.head(bi, hi), g.head(bi, hi))
                // Recompute P from the saved log-sum-exp.
                gemm(qm, km.transposed(), into: p.pointer, ldc: t, parallel: false)
                let l = lse.pointer + (bi * h + hi) * t
                for i in 0..<t {
                    let row = p.pointer + i * t
                    let valid = causal ? i + 1 : t
                    let li = l[i]
                    for j in 0..<valid { row[j] = FastMath.expNonPositive(row[j] * s - li) }
                    for j in valid..<t { row[j] = 0 }
                }
                gemm(p.transposed(), gm, into: dv.head(bi, kvi).pointer, ldc: dv.strides[2], accumulate: !first, parallel: false)  // dV = Pᵀ·dO
                gemm(gm, vm.transposed(), into: dp.pointer, ldc: t, parallel: false)  // dP = dO·Vᵀ
                for i in 0..<t {
                    var dot: Float = 0  // Σ_j dO_ij·O_ij = Σ_j P_ij·dP_ij
                    let go = gm.pointer + i * gm.strides[0], oo = om.pointer + i * om.strides[0]
                    for j in 0..<d { dot += go[j * gm.strides[1]] * oo[j * om.strides[1]] }
                    let rp = p.pointer + i * t, rdp = dp.pointer + i * t
                    for j in 0..<t { rdp[j] = rp[j] * (rdp[j] - dot) * s }  // dS·scale
                }
                gemm(dp, km, into: dq.head(bi, hi).pointer, ldc: dq.strides[2], parallel: false)  // dQ = dS·K
                gemm(dp.transposed(), qm, into: dk.head(bi, kvi).pointer, ldc: dk.strides[2], accumulate: !first, parallel: false)  // dK = dSᵀ·Q
            }
            // Key/value heads run in parallel; each one's query heads in order (fixed sums).
            Parallel.forEach(b * hkv, grain: 1) { kvHeads in
                let p = Tensor(uninitialized: [t, t]), dp = Tensor(uninitialized: [t, t])
                for index in kvHeads {
                    let (bi, kvi) = (index / hkv, index % hkv)
                    for hi in (kvi * group)..<((kvi + 1) * group) { backwardHead(bi, hi, p: p, dp: dp) }
                }
            }
            return [dq, dk, dv]
        }
    }

    /// A (B, H, T, D) tensor whose storage is laid out (B, T, H, D).
    static func headsMajor(_ b: Int, _ h: Int, _ t: Int, _ d: Int) -> Tensor {
        Tensor(storage: TensorStorage(count: b * t * h * d, zeroed: false), shape: [b, h, t, d],
               strides: [t * h * d, d, h * d, 1])
    }

    /// The (T, D) matrix of one batch element and head, as a strided view (not recorded).
    func head(_ bi: Int, _ hi: Int) -> Tensor {
        Tensor(storage: storage, shape: [shape[2], shape[3]], strides: [strides[2], strides[3]],
               offset: offset + bi * strides[0] + hi * strides[1])
    }

    /// Scales a (T, T) score block, applies the causal mask and softmax in place, and
    /// saves each row's log-sum-exp.
    static func softmaxRows(_ p: UnsafeMutablePointer<Float>, _ t: Int, scale: Float, causal: Bool, lse: UnsafeMutablePointer<Float>) {
        for i in 0..<t {
            let row = p + i * t
            let valid = causal ? i + 1 : t
            for j in 0..<valid { row[j] *= scale }
            lse[i] = softmaxRow(row, into: row, valid)
            for j in valid..<t { row[j] = 0 }
        }
    }
}
