import COpenBLAS

/// Matrix products through OpenBLAS `cblas_sgemm`. Transposed views are passed as
/// BLAS transpose flags, never copied; leading dimensions of a contiguous left operand
/// are folded into the rows of one large product.
extension Tensor {
    /// `(…, M, K) · (K, N) → (…, M, N)`, or batched `(B…, M, K) · (B…, K, N) → (B…, M, N)`.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2, "matmul needs matrices, got \(shape) and \(other.shape)")
        let k = shape[rank - 1]
        precondition(other.shape[other.rank - 2] == k, "matmul shapes \(shape) and \(other.shape) do not agree")
        let n = other.shape[other.rank - 1]
        let out: Tensor
        if other.rank == 2 {
            let a = asMatrix()  // (L·M, K)
            out = Tensor(uninitialized: Array(shape.dropLast()) + [n])
            Tensor.gemm(a, other, into: out.pointer, ldc: n)
        } else {
            precondition(Array(shape.dropLast(2)) == Array(other.shape.dropLast(2)), "batch shapes \(shape) and \(other.shape) differ")
            let m = shape[rank - 2]
            let batch = Array(shape.dropLast(2))
            out = Tensor(uninitialized: batch + [m, n])
            let outStrides = Array(out.strides.dropLast(2))
            Strided.forEach3(
                batch, (offset, Array(strides.dropLast(2))), (other.offset, Array(other.strides.dropLast(2))), (0, outStrides)
            ) { oa, ob, oc in
                let a = Tensor(storage: storage, shape: [m, k], strides: Array(strides.suffix(2)), offset: oa)
                let b = Tensor(storage: other.storage, shape: [k, n], strides: Array(other.strides.suffix(2)), offset: ob)
                Tensor.gemm(a, b, into: out.pointer + oc, ldc: n)
            }
        }
        return Tensor.record("matmul", out, [self, other]) { [self] g in
            let ga = requiresGrad ? g.matmul(other.transposed()) : nil
            var gb: Tensor?
            if other.requiresGrad {
                if other.rank == 2 {
                    gb = asMatrix().transposed().matmul(g.reshaped([-1, n]))  // (K, L·M)·(L·M, N)
                } else {
                    gb = transposed().matmul(g)
                }
            }
            return [ga, gb]
        }
    }

    /// `x·W + b` for x (…, In), W (In, Out) and b (Out): the bias rows are written first and
    /// the product accumulated onto them (BLAS β = 1), one pass and one buffer fewer than
    /// `matmul` then `+`.
    public func linear(_ weight: Tensor, _ bias: Tensor) -> Tensor {
        precondition(weight.rank == 2 && bias.shape == [weight.shape[1]] && shape.last == weight.shape[0],
                     "linear: \(shape) · \(weight.shape) + \(bias.shape)")
        let n = weight.shape[1]
        let a = asMatrix()  // (rows, In)
        let out = Tensor(uninitialized: Array(shape.dropLast()) + [n])
        let rows = a.shape[0]
        Tensor.fillRows(out, rows: rows, with: bias)
        Tensor.gemm(a, weight, into: out.pointer, ldc: n, accumulate: true)
        return Tensor.record("linear", out, [self, weight, bias]) { [self] g in
            let g2 = g.reshaped([rows, n])
            return [
                requiresGrad ? g.matmul(weight.transposed()) : nil,
                weight.requiresGrad ? a.transposed().matmul(g2) : nil,
                bias.requiresGrad ? g2.sum(axes: [0]) : nil,
            ]
        }
    }

    /// `x·W (+ bias) + u·B` in one output buffer, for x (…, In), W (In, Out), u (…, r) and
    /// B (r, Out): a linear layer with a low-rank update (LoRA's forward). The sum is never a
    /// tensor of its own, so an adapted layer keeps as much activation memory as a plain one
    /// (plus the small u); a frozen W gets no gradient.
    public func linear(_ weight: Tensor, bias: Tensor?, adding u: Tensor, _ b: Tensor) -> Tensor {
        precondition(weight.rank == 2 && b.rank == 2 && shape.last == weight.shape[0] && b.shape[1] == weight.shape[1]
                     && u.shape.last == b.shape[0] && Array(u.shape.dropLast()) == Array(shape.dropLast())
                     && (bias.map { $0.shape == [weight.shape[1]] } ?? true),
                     "linear with a low-rank update: \(shape) · \(weight.shape) + \(u.shape) · \(b.shape)")
        let n = weight.shape[1]
        let a = asMatrix(), um = u.asMatrix()  // (rows, In), (rows, r)
        let rows = a.shape[0]
        let out = Tensor(uninitialized: Array(shape.dropLast()) + [n])
        if let bias { Tensor.fillRows(out, rows: rows, with: bias) }
        Tensor.gemm(a, weight, into: out.pointer, ldc: n, accumulate: bias != nil)
        Tensor.gemm(um, b, into: out.pointer, ldc: n, accumulate: true)
        return Tensor.record("linear_low_rank", out, [self, weight] + (bias.map { [$0] } ?? []) + [u, b]) { [self] g in
            let g2 = g.reshaped([rows, n])
            var grads: [Tensor?] = [requiresGrad ? g.matmul(weight.transposed()) : nil, weight.requiresGrad ? a.transposed().matmul(g2) : nil]
            if let bias { grads.append(bias.requiresGrad ? g2.sum(axes: [0]) : nil) }
            grads.append(u.requiresGrad ? g.matmul(b.transposed()) : nil)
            grads.append(b.requiresGrad ? um.transposed().matmul(g2) : nil)
            return grads
        }
    }

    /// Writes `bias` (N) into each of the `rows` rows of the contiguous (rows, N) `out`, in
    /// parallel: the starting value a GEMM then accumulates into.
    static func fillRows(_ out: Tensor, rows: Int, with bias: Tensor) {
        let n = bias.count
        let b = Tensor.noGrad { bias.contiguous() }
        let (po, pb) = (UnsafeSendable(out.pointer), UnsafeSendable(b.pointer))
        Parallel.forEach(rows, grain: Swift.max(1, (1 << 16) / Swift.max(1, n))) { range in
            for r in range { (po.value + r * n).update(from: pb.value, count: n) }
        }
    }

    /// This tensor as one (rows, K) matrix: a view when the layout allows, else a copy.
    func asMatrix() -> Tensor {
        if rank == 2 { return self }
        let c = Tensor.noGrad { contiguous() }
        return Tensor(storage: c.storage, shape: [count / shape[rank - 1], shape[rank - 1]], offset: c.offset)
    }

    /// How BLAS reads a 2-D operand: row-major (`ld` = row stride) or transposed.
    static func operand(_ t: Tensor) -> (Tensor, CBLAS_TRANSPOSE, Int) {
        let rows = t.shape[0], cols = t.shape[1]
        if t.strides[1] == 1 || cols == 1, t.strides[0] >= Swift.max(1, cols) || rows == 1 {
            return (t, CblasNoTrans, Swift.max(t.strides[0], cols, 1))
        }
        if t.strides[0] == 1 || rows == 1, t.strides[1] >= Swift.max(1, rows) {
            return (t, CblasTrans, Swift.max(t.strides[1], rows, 1))
        }
        let c = Tensor.noGrad { t.contiguous() }
        return (c, CblasNoTrans, Swift.max(cols, 1))
    }

    /// C = A·B for 2-D A (M, K) and B (K, N), writing a row-major (M, N) block with row stride `ldc`.
    ///
    /// Large products are cut into 2 row or column blocks, a partition fixed by the shape
    /// alone, and the blocks run in parallel with single-threaded OpenBLAS. Two blocks
    /// measured best on this 2-core machine (training steps of configs S and M: 2 blocks
    /// beat 4 and 8 by 1–5%; more blocks repack the shared operand more often). OpenBLAS's
    /// own threading is not bit-reproducible across thread counts here (measured: 1 vs 2
    /// threads differ in the last bits with the Haswell kernels), this partition is.
    /// `parallel: false` is for callers that already run in parallel (attention heads).
    static func gemm(
        _ a: Tensor, _ b: Tensor, into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, parallel: Bool = true
    ) {
        Runtime.configureBLAS
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let splitRows = m >= n
        // A matrix-vector product is bound by reading B: worth splitting from a smaller size.
        let work = m == 1 ? 8 * n * k : m * n * k
        let blocks = !parallel || work < 1 << 21 ? 1 : Swift.min(2, Swift.max(1, (splitRows ? m : n) / 64))
        if blocks == 1 {
            gemmBlock(a, b, into: c, ldc: ldc, accumulate: accumulate)
            return
        }
        let (ca, cb) = (UnsafeSendable(a), UnsafeSendable(b))
        Parallel.forEach(blocks, grain: 1) { range in
            for block in range {
                let r = Parallel.range(block, blocks, splitRows ? m : n)
                if splitRows {
                    let rows = Tensor(storage: ca.value.storage, shape: [r.count, k], strides: ca.value.strides,
                                      offset: ca.value.offset + r.lowerBound * ca.value.strides[0])
                    gemmBlock(rows, cb.value, into: c + r.lowerBound * ldc, ldc: ldc, accumulate: accumulate)
                } else {
                    let cols = Tensor(storage: cb.value.storage, shape: [k, r.count], strides: cb.value.strides,
                                      offset: cb.value.offset + r.lowerBound * cb.value.strides[1])
                    gemmBlock(ca.value, cols, into: c + r.lowerBound, ldc: ldc, accumulate: accumulate)
                }
            }
        }
    }

    /// One single-threaded `cblas_sgemm` call; `accumulate` adds to C (β = 1) instead of overwriting it.
    /// A single row (decoding one token) goes to `cblas_sgemv`, which streams B once; sgemm
    /// would first pack all of B, and that copy was three quarters of a decoding step.
    static func gemmBlock(_ a: Tensor, _ b: Tensor, into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        let (tb, transB, ldb) = operand(b)
        if m == 1, a.strides[1] > 0 {
            // c = Bᵀ·a: B row-major (K, N) is read transposed; a transposed view is (N, K) storage.
            let (rows, cols) = transB == CblasNoTrans ? (k, n) : (n, k)
            cblas_sgemv(CblasRowMajor, transB == CblasNoTrans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), 1,
                        tb.pointer, Int32(ldb), a.pointer, Int32(a.strides[1]), accumulate ? 1 : 0, c, 1)
            return
        }
        let (ta, transA, lda) = operand(a)
        cblas_sgemm(
            CblasRowMajor, transA, transB, Int32(m), Int32(n), Int32(k), 1, ta.pointer, Int32(lda), tb.pointer,
            Int32(ldb), accumulate ? 1 : 0, c, Int32(ldc))
    }
}

/// Process-wide runtime settings.
public enum Runtime {
    /// Threads for Tailor's kernels, matrix products included (OpenBLAS itself runs on one
    /// thread inside fixed blocks, see `gemm`), so results do not depend on this.
    public static func setThreads(_ n: Int) {
        Parallel.threads = Swift.max(1, n)
        configureBLAS
    }

    /// OpenBLAS on one thread, once: Tailor parallelises around it.
    static let configureBLAS: Void = openblas_set_num_threads(1)
}
