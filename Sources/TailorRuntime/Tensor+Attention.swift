import Foundation

/// Scaled dot-product attention, fused per head: scores for one (batch, head) at a
/// time through BLAS, so neither pass holds the B×H×Tq×Tk probabilities. The forward
/// saves only each row's log-sum-exp; the backward recomputes probabilities head by head.
extension Tensor {
    /// `softmax(Q·Kᵀ·scale [masked]) · V` for (B, H, Tq, D) queries and (B, Hkv, Tk, D) keys
    /// and values, any of which may be strided views (heads permuted out of a (B, T, H, D)
    /// projection are read in place, not copied). The result is a (B, H, Tq, D) view over
    /// (B, Tq, H, D) storage, so merging heads back is free.
    ///
    /// - Grouped-query attention: Hkv divides H; query head i reads key/value head i / (H / Hkv).
    /// - `causal`: the Tq queries are the last Tq of the Tk positions (Tk > Tq when earlier keys
    ///   come from a cache), and query i sees keys up to position Tk − Tq + i.
    /// - `keyStart[b]` / `keyEnd[b]`: keys before / from this index are masked for batch
    ///   element b (left-padded prompts, right-padded encoder batches). A query that sees no
    ///   key at all gets zeros.
    /// - `segmentStart[b·Tq + i]`: the first key query i of batch element b sees. Rows packed
    ///   with several examples pass where each query's example starts, so examples never
    ///   attend to each other.
    public static func attention(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = true, scale: Float? = nil, keyStart: [Int]? = nil, keyEnd: [Int]? = nil,
        segmentStart: [Int]? = nil
    ) -> Tensor {
        precondition(q.rank == 4 && k.shape == v.shape && k.rank == 4 && q.shape[0] == k.shape[0]
                     && q.shape[3] == k.shape[3] && q.shape[1] % k.shape[1] == 0 && (!causal || k.shape[2] >= q.shape[2]),
                     "attention needs (B, H, Tq, D) queries and (B, Hkv, Tk, D) keys and values with Hkv dividing H (Tk ≥ Tq when causal)")
        precondition(keyStart.map { $0.count == q.shape[0] } ?? true, "attention: one key start per batch element")
        precondition(keyEnd.map { $0.count == q.shape[0] } ?? true, "attention: one key end per batch element")
        precondition(segmentStart.map { $0.count == q.shape[0] * q.shape[2] } ?? true, "attention: one segment start per query")
        let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (hkv, tk) = (k.shape[1], k.shape[2])
        let group = h / hkv, shift = tk - tq
        let s = scale ?? 1 / Float(d).squareRoot()
        /// Keys that query row i of batch element bi sees.
        let visible = { (bi: Int, i: Int) -> Range<Int> in
            let first = Swift.max(keyStart?[bi] ?? 0, segmentStart?[bi * tq + i] ?? 0)
            let lo = Swift.min(first, tk), hi = Swift.min(causal ? i + 1 + shift : tk, keyEnd?[bi] ?? tk)
            return lo..<Swift.max(lo, hi)
        }
        let out = headsMajor(b, h, tq, d)  // (B, H, Tq, D) view over (B, Tq, H, D)
        let lse = Tensor(uninitialized: [b, h, tq])
        // Heads run in parallel, each with its own score block.
        Parallel.forEach(b * h, grain: 1) { heads in
            let scores = Tensor(uninitialized: [tq, tk])
            for index in heads {
                let (bi, hi) = (index / h, index % h)
                let (qm, km, vm, om) = (q.head(bi, hi), k.head(bi, hi / group), v.head(bi, hi / group), out.head(bi, hi))
                gemm(qm, km.transposed(), into: scores.pointer, ldc: tk, parallel: false)  // (Tq, Tk)
                let l = lse.pointer + index * tq
                for i in 0..<tq {
                    let row = scores.pointer + i * tk, keys = visible(bi, i)
                    for j in keys { row[j] *= s }
                    l[i] = keys.isEmpty ? 0 : softmaxRow(row + keys.lowerBound, into: row + keys.lowerBound, keys.count)
                    for j in 0..<keys.lowerBound { row[j] = 0 }
                    for j in keys.upperBound..<tk { row[j] = 0 }
                }
                gemm(scores, vm, into: om.pointer, ldc: om.strides[0], parallel: false)  // (Tq, D)
            }
        }
        return record("attention", out, [q, k, v]) { g in
            let dq = headsMajor(b, h, tq, d), dk = headsMajor(b, hkv, tk, d), dv = headsMajor(b, hkv, tk, d)
            /// One query head's gradients; its key/value head's gradients are overwritten by
            /// the group's first query head and accumulated by the others. `p` and `dp` are
            /// (Tq, Tk) scratch blocks.
            func backwardHead(_ bi: Int, _ hi: Int, p: Tensor, dp: Tensor) {
                let kvi = hi / group, first = hi % group == 0
                let (qm, km, vm, om, gm) = (q.head(bi, hi), k.head(bi, kvi), v.head(bi, kvi), out.head(bi, hi), g.head(bi, hi))
                // Recompute P from the saved log-sum-exp.
                gemm(qm, km.transposed(), into: p.pointer, ldc: tk, parallel: false)
                let l = lse.pointer + (bi * h + hi) * tq
                for i in 0..<tq {
                    let row = p.pointer + i * tk, keys = visible(bi, i), li = l[i]
                    for j in keys { row[j] = FastMath.expNonPositive(row[j] * s - li) }
                    for j in 0..<keys.lowerBound { row[j] = 0 }
                    for j in keys.upperBound..<tk { row[j] = 0 }
                }
                gemm(p.transposed(), gm, into: dv.head(bi, kvi).pointer, ldc: dv.strides[2], accumulate: !first, parallel: false)  // dV = Pᵀ·dO
                gemm(gm, vm.transposed(), into: dp.pointer, ldc: tk, parallel: false)  // dP = dO·Vᵀ
                for i in 0..<tq {
                    var dot: Float = 0  // Σ_j dO_ij·O_ij = Σ_j P_ij·dP_ij
                    let go = gm.pointer + i * gm.strides[0], oo = om.pointer + i * om.strides[0]
                    for j in 0..<d { dot += go[j * gm.strides[1]] * oo[j * om.strides[1]] }
                    let rp = p.pointer + i * tk, rdp = dp.pointer + i * tk
                    for j in 0..<tk { rdp[j] = rp[j] * (rdp[j] - dot) * s }  // dS·scale
                }
                gemm(dp, km, into: dq.head(bi, hi).pointer, ldc: dq.strides[2], parallel: false)  // dQ = dS·K
                gemm(dp.transposed(), qm, into: dk.head(bi, kvi).pointer, ldc: dk.strides[2], accumulate: !first, parallel: false)  // dK = dSᵀ·Q
            }
            // Key/value heads run in parallel; each one's query heads in order (fixed sums).
            Parallel.forEach(b * hkv, grain: 1) { kvHeads in
                let p = Tensor(uninitialized: [tq, tk]), dp = Tensor(uninitialized: [tq, tk])
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
}
