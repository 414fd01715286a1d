#if TAILOR_AVX2
import _Builtin_intrinsics.intel
#endif

/// The keys and values of one sequence being decoded, (Hkv, capacity, D) per layer, and the
/// causal attention of its new rows over them. A server decodes many sequences in one step, each
/// at its own position, so each keeps a cache of its own instead of a row in a padded batch; its
/// attention reads only its own keys, in a fixed order, so a sequence's result never depends on
/// which others share the step.
///
/// Keys and values are kept as Float16, as llama.cpp's cache keeps them by default: at 8
/// sequences a step's attention was bound by reading them (a fifth of the step in Float32), and
/// half the bytes read in half the time. Each value is rounded once, to nearest, when it is
/// written; reading widens it exactly, so the attention is the same function of the rounded
/// cache on every path.
public final class SequenceKV: @unchecked Sendable {  // one step uses it at a time
    public let layers: Int, kvHeads: Int, headDim: Int, capacity: Int
    /// Positions already cached (every layer holds the same count once a step ends).
    public var length = 0
    let keys: UnsafeMutablePointer<UInt16>, values: UnsafeMutablePointer<UInt16>  // (L, Hkv, capacity, D), Float16 bits

    public init(layers: Int, kvHeads: Int, headDim: Int, capacity: Int) {
        precondition(layers > 0 && kvHeads > 0 && headDim > 0 && capacity > 0, "SequenceKV: empty shape")
        (self.layers, self.kvHeads, self.headDim, self.capacity) = (layers, kvHeads, headDim, capacity)
        let count = layers * kvHeads * capacity * headDim
        keys = .allocate(capacity: count)
        values = .allocate(capacity: count)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes a cache of this shape holds (what `BatchDecoder` counts against its budgets).
    public static func bytes(layers: Int, kvHeads: Int, headDim: Int, capacity: Int) -> Int { 2 * 2 * layers * kvHeads * capacity * headDim }

    @inline(__always)
    func slot(_ layer: Int, _ head: Int, _ position: Int) -> Int { ((layer * kvHeads + head) * capacity + position) * headDim }

    /// Takes the first `count` positions of `other` (a cache of the same shape whose sequence
    /// begins with the same tokens): the keys and values those tokens would get here, bit for bit,
    /// since a position's keys depend only on the tokens up to it.
    public func copyPrefix(of other: SequenceKV, count: Int) {
        precondition(other.layers == layers && other.kvHeads == kvHeads && other.headDim == headDim && count <= other.length && count <= capacity,
                     "SequenceKV: a prefix comes from a cache of the same shape that holds it")
        for layer in 0..<layers {
            for h in 0..<kvHeads {
                (keys + slot(layer, h, 0)).update(from: other.keys + other.slot(layer, h, 0), count: count * headDim)
                (values + slot(layer, h, 0)).update(from: other.values + other.slot(layer, h, 0), count: count * headDim)
            }
        }
        length = count
    }

    /// Writes `rows` new positions' keys and values, (rows, Hkv·D) each, after the cached ones.
    public func append(layer: Int, keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows: Int) {
        precondition(length + rows <= capacity, "SequenceKV: \(length) + \(rows) positions exceed its capacity of \(capacity)")
        for r in 0..<rows {
            for h in 0..<kvHeads {
                let at = slot(layer, h, length + r), from = (r * kvHeads + h) * headDim
                for c in 0..<headDim {
                    keys[at + c] = Float16(k[from + c]).bitPattern
                    values[at + c] = Float16(v[from + c]).bitPattern
                }
            }
        }
    }

    /// Causal attention of `rows` queries (rows, H·D) at positions `length ..< length + rows`
    /// (their keys already appended) into `out` (rows, H·D); head h reads key head h / (H / Hkv).
    /// One (row, head) pair per call, so callers can spread them over threads.
    public func attend(layer: Int, query q: UnsafePointer<Float>, row: Int, head: Int, heads: Int, scores: UnsafeMutablePointer<Float>,
                       into out: UnsafeMutablePointer<Float>) {
        let d = headDim, kvHead = head / (heads / kvHeads), visible = length + row + 1
        let scale = 1 / Float(d).squareRoot()
        let k = keys + slot(layer, kvHead, 0), v = values + slot(layer, kvHead, 0)
        /// Key j's score: q · k_j in 16 lanes, summed pairwise, plus the columns past the last
        /// 16, times the scale. The same operations whether j is taken alone or among four.
        let whole = d - d % Lanes.width, zero = SIMD16<Float>(repeating: 0)
        @inline(__always) func score(_ j: Int, _ acc: SIMD16<Float>) -> Float {
            let kj = k + j * d
            var tail: Float = 0
            for c in whole..<d { tail.addProduct(q[c], Float(Float16(bitPattern: kj[c]))) }
            return (BlockMatrix.treeSum(acc) + tail) * scale
        }
        var j = 0
        // Four keys at a time: their sums are independent, so they do not wait on each other.
        while j + 4 <= visible {
            var (a0, a1, a2, a3) = (zero, zero, zero, zero)
            let k0 = k + j * d
            for i in stride(from: 0, to: whole, by: Lanes.width) {
                let qi = Lanes.load(q, i)
                a0.addProduct(qi, Self.widen(k0, i))
                a1.addProduct(qi, Self.widen(k0 + d, i))
                a2.addProduct(qi, Self.widen(k0 + 2 * d, i))
                a3.addProduct(qi, Self.widen(k0 + 3 * d, i))
            }
            (scores[j], scores[j + 1], scores[j + 2], scores[j + 3]) = (score(j, a0), score(j + 1, a1), score(j + 2, a2), score(j + 3, a3))
            j += 4
        }
        while j < visible {
            var acc = zero
            for i in stride(from: 0, to: whole, by: Lanes.width) { acc.addProduct(Lanes.load(q, i), Self.widen(k + j * d, i)) }
            scores[j] = score(j, acc)
            j += 1
        }
        var top = -Float.infinity
        for j in 0..<visible { top = Swift.max(top, scores[j]) }
        var total: Float = 0
        for j in 0..<visible {
            scores[j] = FastMath.expNonPositive(scores[j] - top)
            total += scores[j]
        }
        // The weighted values, 64 columns at a time held in registers over every position.
        let inv = 1 / total
        var c = 0
        while c + 64 <= d {
            var (a0, a1, a2, a3) = (zero, zero, zero, zero)
            for j in 0..<visible {
                let w = SIMD16<Float>(repeating: scores[j]), vj = v + j * d + c
                a0.addProduct(w, Self.widen(vj, 0))
                a1.addProduct(w, Self.widen(vj, 16))
                a2.addProduct(w, Self.widen(vj, 32))
                a3.addProduct(w, Self.widen(vj, 48))
            }
            Lanes.store(a0 * inv, out, c)
            Lanes.store(a1 * inv, out, c + 16)
            Lanes.store(a2 * inv, out, c + 32)
            Lanes.store(a3 * inv, out, c + 48)
            c += 64
        }
        while c < d {
            var a: Float = 0
            for j in 0..<visible { a.addProduct(scores[j], Float(Float16(bitPattern: v[j * d + c]))) }
            out[c] = a * inv
            c += 1
        }
    }

    /// Sixteen cached Float16 values from `p + i`, widened (exactly) to Float32.
    @inline(__always)
    static func widen(_ p: UnsafeMutablePointer<UInt16>, _ i: Int) -> SIMD16<Float> {
        #if TAILOR_AVX2
        let halves = UnsafeRawPointer(p + i)
        let low = _mm256_cvtph_ps(_mm_loadu_si128(halves.assumingMemoryBound(to: __m128i.self)))
        let high = _mm256_cvtph_ps(_mm_loadu_si128((halves + 16).assumingMemoryBound(to: __m128i.self)))
        return unsafeBitCast((low, high), to: SIMD16<Float>.self)
        #else
        SIMD16<Float>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float16>.self))
        #endif
    }
}
