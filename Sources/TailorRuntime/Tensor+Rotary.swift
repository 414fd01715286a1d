import Foundation

/// Rotary position embeddings on (B, H, T, D) queries or keys.
extension Tensor {
    /// How dimensions pair up for rotation: the first half with the second (Hugging Face
    /// Llama's `rotate_half`) or neighbours (2i, 2i+1), as GGUF stores Llama's Q and K.
    public enum RotaryPairing: Sendable { case halves, interleaved }

    /// Rotates each pair of dimension i at position p by p·base^(−2i/D).
    /// `positions` gives each of the T rows its position (offsets for cached decoding), or each
    /// of the B·T rows of every batch element its own (packed rows restart at each example).
    public func rotary(positions: [Int], base: Float = 10_000, pairing: RotaryPairing = .halves) -> Tensor {
        precondition(rank == 4 && (positions.count == shape[2] || positions.count == shape[0] * shape[2]) && shape[3] % 2 == 0,
                     "rotary needs (B, H, T, even D) and T or B·T positions")
        let (b, h, t, d) = (shape[0], shape[1], shape[2], shape[3])
        let half = d / 2, perBatch = positions.count != t
        // One table row per distinct position (packed rows repeat positions across the batch).
        let first = positions.min() ?? 0, span = (positions.max() ?? 0) - first + 1
        var cosTable = [Float](repeating: 0, count: span * half), sinTable = cosTable  // (positions, D/2)
        for p in Set(positions) {
            for i in 0..<half {
                let angle = Double(p) * Foundation.pow(Double(base), -2 * Double(i) / Double(d))
                cosTable[(p - first) * half + i] = Float(Foundation.cos(angle))
                sinTable[(p - first) * half + i] = Float(Foundation.sin(angle))
            }
        }
        let rowsPosition = positions.map { $0 - first }  // table row of each of the T or B·T rows
        /// Pair indices (first, second) of rotation i within a row.
        func pair(_ i: Int) -> (Int, Int) { pairing == .halves ? (i, i + half) : (2 * i, 2 * i + 1) }
        /// Rotates every row of `src` into a new tensor by +θ (sign 1) or −θ (sign −1).
        func rotate(_ src: Tensor, sign: Float) -> Tensor {
            let x = src.contiguous()
            let out = Tensor(uninitialized: x.shape)
            let (cosT, sinT, at) = (cosTable, sinTable, rowsPosition)
            Parallel.forEach(b * h * t, grain: Swift.max(1, 4096 / d)) { rows in
                for r in rows {
                    let row = at[perBatch ? r / (h * t) * t + r % t : r % t]
                    let px = x.pointer + r * d, po = out.pointer + r * d
                    for i in 0..<half {
                        let (j, k) = pair(i)
                        let c = cosT[row * half + i], s = sign * sinT[row * half + i]
                        po[j] = px[j] * c - px[k] * s
                        po[k] = px[k] * c + px[j] * s
                    }
                }
            }
            return out
        }
        let out = Tensor.noGrad { rotate(self, sign: 1) }
        return Tensor.record("rotary", out, [self]) { g in [rotate(g, sign: -1)] }
    }
}
