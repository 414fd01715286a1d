#if TAILOR_AVX2
import _Builtin_intrinsics.intel
#endif

/// Rows of x quantised to 8 bits per 32-value block, as llama.cpp quantises the activations that
/// meet its 4- and 8-bit weights (its Q8_0/Q8_1 rows): a block's scale is its largest magnitude
/// over 127, each value is rounded to the nearest step (ties to even), and the block also
/// keeps Σ q and scale · Σ q: Q8_0's kernel corrects by the first, Q4's offsets multiply the
/// second. A block's products with a weight block
/// are then exact integer sums, taken 32 at a time by the integer vector units; only their scaling
/// is floating point. This trades Float32 inputs for about two decimal digits (a block's values
/// are kept to 1/254 of its largest), the trade every quantised-inference engine makes.
struct QuantizedRows {
    let count: Int, columns: Int
    let values: UnsafeMutablePointer<Int8>  // (n, In)
    let scales: UnsafeMutablePointer<Float>  // (n, In / 32)
    let sums: UnsafeMutablePointer<Float>  // (n, In / 32): scale · Σ q
    let totals: UnsafeMutablePointer<Int32>  // (n, In / 32): Σ q

    /// Quantises n rows of `columns` values (a multiple of 32). Each row's result depends on that
    /// row alone.
    init(_ x: UnsafePointer<Float>, rows n: Int, columns: Int) {
        let blocks = columns / 32
        (count, self.columns) = (n, columns)
        values = .allocate(capacity: n * columns)
        scales = .allocate(capacity: n * blocks)
        sums = .allocate(capacity: n * blocks)
        totals = .allocate(capacity: n * blocks)
        // Plain loops over memory, which the compiler vectorises (Swift's SIMD reductions do not).
        for b in 0..<n * blocks {
            let v = x + b * 32, q = values + b * 32
            // The largest magnitude, compared as bit patterns: for floats without their sign the
            // integer order is the numeric order (a NaN is largest, and makes the block's results NaN).
            var largest: UInt32 = 0
            for j in 0..<32 { largest = Swift.max(largest, v[j].bitPattern & 0x7FFF_FFFF) }
            let scale = Float(bitPattern: largest) / 127, inverse = scale == 0 ? 0 : 1 / scale
            var total: Int32 = 0
            for j in 0..<32 {
                q[j] = Self.step(v[j], inverse)
                total &+= Int32(q[j])
            }
            scales[b] = scale
            sums[b] = scale * Float(total)
            totals[b] = total
        }
    }

    /// v · inverse rounded to the nearest integer, ties to even: adding 1.5 · 2²³ leaves the
    /// rounded value in the low bits of the sum's mantissa (exact for magnitudes up to 2²²; these
    /// are at most 127). Never traps: a NaN becomes some value, and its block's results are NaN
    /// anyway through the scale.
    @inline(__always)
    static func step(_ v: Float, _ inverse: Float) -> Int8 {
        Int8(truncatingIfNeeded: Int32(bitPattern: (v * inverse + 12_582_912).bitPattern) &- 0x4B40_0000)
    }

    func deallocate() {
        values.deallocate()
        scales.deallocate()
        sums.deallocate()
        totals.deallocate()
    }
}

extension BlockMatrix {
    /// y[i, o] for the rows o of the eight-row groups `groups` (`BlockTiles`) and every quantised
    /// row i of x. For each row i and weight row o, block by block: the block's integer sum
    /// Σ w·x (exact); that sum times (d_o · x's block scale), added into the even or the odd
    /// blocks' sum by one fused multiply-add; for Q4, m_o (Q4_0: −8·d_o) times x's block sum
    /// (`QuantizedRows.sums`) added into an offset sum by another. Then y = (even + odd) + offsets
    /// (Q8_0: even + odd). Eight weight rows are eight lanes of one register, and four rows of x
    /// share each tile's unpacking; every y[i, o] is these operations in this order, whatever
    /// rows share the call, so a row's result never depends on the others.
    func integerDots(_ groups: Range<Int>, _ x: QuantizedRows, into y: UnsafeMutablePointer<Float>) {
        guard let tiles else { preconditionFailure("BlockMatrix: Float32 rows are multiplied in Float32") }
        switch encoding {
        case .q8_0: integerDots(groups, tiles, x, y, Q8Tiles.self)
        case .q4_0: integerDots(groups, tiles, x, y, Q40Tiles.self)
        case .q4_1: integerDots(groups, tiles, x, y, Q41Tiles.self)
        case .f32: preconditionFailure("BlockMatrix: Float32 rows are multiplied in Float32")
        }
    }

    @inline(__always)
    private func integerDots<Kind: TileKind>(_ groups: Range<Int>, _ tiles: BlockTiles, _ x: QuantizedRows, _ y: UnsafeMutablePointer<Float>, _: Kind.Type) {
        let blocks = tiles.blocks
        typealias Four = (TileSums, TileSums, TileSums, TileSums)
        for g in groups {
            let lanes = Swift.min(8, rows - g * 8)
            /// Block `b` of the group into the sums of the `count` (1 or 4) x rows from `first`.
            @inline(__always) func block(_ b: Int, _ first: Int, _ sums: inout Four, _ offsets: inout Four, count: Int) {
                let tile = Tile(tiles.tile(g, b), tiles.valuesOffset, Kind.self)
                @inline(__always) func add(_ s: inout TileSums, _ f: inout TileSums, _ r: Int) {
                    let at = (first &+ r) &* blocks &+ b
                    s.add(tile.dot(x.values + at &* 32, total: x.totals[at]), tile.d, x.scales[at])
                    if Kind.hasOffset { f.addOffset(tile.m, x.sums[at]) }
                }
                add(&sums.0, &offsets.0, 0)
                if count == 4 {
                    add(&sums.1, &offsets.1, 1)
                    add(&sums.2, &offsets.2, 2)
                    add(&sums.3, &offsets.3, 3)
                }
            }
            /// Every block of the group for the `count` x rows from `i`, even and odd blocks apart.
            @inline(__always) func sweep(from i: Int, count: Int) {
                var even = (TileSums(), TileSums(), TileSums(), TileSums()), odd = even, offsets = even
                var b = 0
                while b + 2 <= blocks {
                    block(b, i, &even, &offsets, count: count)
                    block(b + 1, i, &odd, &offsets, count: count)
                    b += 2
                }
                if b < blocks { block(b, i, &even, &offsets, count: count) }
                @inline(__always) func store(_ even: TileSums, _ odd: TileSums, _ offsets: TileSums, _ r: Int) {
                    (Kind.hasOffset ? (even + odd) + offsets : even + odd).store(y + (i + r) * rows + g * 8, count: lanes)
                }
                store(even.0, odd.0, offsets.0, 0)
                if count == 4 {
                    store(even.1, odd.1, offsets.1, 1)
                    store(even.2, odd.2, offsets.2, 2)
                    store(even.3, odd.3, offsets.3, 3)
                }
            }
            var i = 0
            while i + 4 <= x.count {
                sweep(from: i, count: 4)
                i += 4
            }
            while i < x.count {
                sweep(from: i, count: 1)
                i += 1
            }
        }
    }
}

/// What the integer kernel needs of a block encoding's tiles.
protocol TileKind {
    static var nibbles: Bool { get }
    static var hasOffset: Bool { get }
    /// The offsets m of a tile's eight rows, given their scales (Q4_0's −8·d; Q4_1's stored m).
    static func offsets<F: EightFloats>(_ tile: UnsafeRawPointer, _ d: F) -> F
}

/// Eight Float32 lanes, one per weight row of a group (a register, or its portable spelling).
protocol EightFloats {
    /// Eight Float16 values from memory.
    static func halves(_ p: UnsafeRawPointer) -> Self
    static func times(_ a: Self, _ s: Float) -> Self
}

/// Q8_0: d · q, q signed.
enum Q8Tiles: TileKind {
    static var nibbles: Bool { false }
    static var hasOffset: Bool { false }
    @inline(__always) static func offsets<F: EightFloats>(_ tile: UnsafeRawPointer, _ d: F) -> F { d }
}

/// Q4_0: d · (q − 8) = d · q − 8d.
enum Q40Tiles: TileKind {
    static var nibbles: Bool { true }
    static var hasOffset: Bool { true }
    @inline(__always) static func offsets<F: EightFloats>(_ tile: UnsafeRawPointer, _ d: F) -> F { F.times(d, -8) }
}

/// Q4_1: d · q + m.
enum Q41Tiles: TileKind {
    static var nibbles: Bool { true }
    static var hasOffset: Bool { true }
    @inline(__always) static func offsets<F: EightFloats>(_ tile: UnsafeRawPointer, _ d: F) -> F { F.halves(tile + 16) }
}

#if TAILOR_AVX2
struct TileFloats: EightFloats {
    var v: __m256

    @inline(__always) static func halves(_ p: UnsafeRawPointer) -> TileFloats {
        TileFloats(v: _mm256_cvtph_ps(_mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))))
    }

    @inline(__always) static func times(_ a: TileFloats, _ s: Float) -> TileFloats { TileFloats(v: _mm256_mul_ps(a.v, _mm256_set1_ps(s))) }
}

/// A tile unpacked into registers: its scales and offsets, and its values as eight registers of
/// four bytes per row (Q4's nibbles 0…15; Q8_0's values as stored, or moved up by 128 to be
/// unsigned where VNNI multiplies them).
struct Tile {
    let d: TileFloats, m: TileFloats
    let w: (__m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i, __m256i)
    let nibbles: Bool

    @inline(__always) init<Kind: TileKind>(_ p: UnsafeRawPointer, _ valuesOffset: Int, _: Kind.Type) {
        d = TileFloats.halves(p)
        m = Kind.offsets(p, d)
        nibbles = Kind.nibbles
        @inline(__always) func load(_ step: Int) -> __m256i { _mm256_loadu_si256((p + valuesOffset + 32 * step).assumingMemoryBound(to: __m256i.self)) }
        if Kind.nibbles {
            let low = _mm256_set1_epi8(0x0F)
            let (s0, s1, s2, s3) = (load(0), load(1), load(2), load(3))
            w = (_mm256_and_si256(s0, low), _mm256_and_si256(s1, low), _mm256_and_si256(s2, low), _mm256_and_si256(s3, low),
                 _mm256_and_si256(_mm256_srli_epi16(s0, 4), low), _mm256_and_si256(_mm256_srli_epi16(s1, 4), low),
                 _mm256_and_si256(_mm256_srli_epi16(s2, 4), low), _mm256_and_si256(_mm256_srli_epi16(s3, 4), low))
        } else {
            #if TAILOR_VNNI
            let flip = _mm256_set1_epi8(-128)
            w = (_mm256_xor_si256(load(0), flip), _mm256_xor_si256(load(1), flip), _mm256_xor_si256(load(2), flip), _mm256_xor_si256(load(3), flip),
                 _mm256_xor_si256(load(4), flip), _mm256_xor_si256(load(5), flip), _mm256_xor_si256(load(6), flip), _mm256_xor_si256(load(7), flip))
            #else
            w = (load(0), load(1), load(2), load(3), load(4), load(5), load(6), load(7))
            #endif
        }
    }

    /// Each row's exact Σ w·x with one x block (32 values; `total` is their sum).
    @inline(__always) func dot(_ x: UnsafePointer<Int8>, total: Int32) -> __m256i {
        let raw = UnsafeRawPointer(x)
        @inline(__always) func chunk(_ k: Int) -> __m256i { _mm256_set1_epi32(raw.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)) }
        /// acc + each lane's four products of unsigned weights u and signed x s (exact).
        @inline(__always) func products(_ acc: __m256i, _ u: __m256i, _ s: __m256i) -> __m256i {
            #if TAILOR_VNNI
            // The masked form is the one Swift can call (the plain one is a C macro); all lanes kept.
            return _mm256_mask_dpbusd_epi32(acc, 0xFF, u, s)
            #else
            // Byte pairs to 16 bits first: no pair can overflow (at most 2 · 128 · 127).
            return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
            #endif
        }
        @inline(__always) func term(_ acc: __m256i, _ w: __m256i, _ k: Int) -> __m256i {
            #if TAILOR_VNNI
            return products(acc, w, chunk(k))
            #else
            // Signed weights: their magnitudes times x with their signs.
            return nibbles ? products(acc, w, chunk(k)) : products(acc, _mm256_sign_epi8(w, w), _mm256_sign_epi8(chunk(k), w))
            #endif
        }
        let zero = _mm256_setzero_si256()
        let a = term(term(term(term(zero, w.0, 0), w.2, 2), w.4, 4), w.6, 6)
        let b = term(term(term(term(zero, w.1, 1), w.3, 3), w.5, 5), w.7, 7)
        let sum = _mm256_add_epi32(a, b)
        #if TAILOR_VNNI
        // Q8_0's weights were moved up by 128: Σ (w + 128)·x − 128·Σx.
        return nibbles ? sum : _mm256_sub_epi32(sum, _mm256_set1_epi32(total &* 128))
        #else
        return sum
        #endif
    }
}

/// Eight Float32 sums, one per weight row of a group.
struct TileSums {
    var v = _mm256_setzero_ps()

    /// sums += Float(products) · (d · xScale), fused.
    @inline(__always) mutating func add(_ products: __m256i, _ d: TileFloats, _ xScale: Float) {
        v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products), _mm256_mul_ps(d.v, _mm256_set1_ps(xScale)), v)
    }

    /// sums += m · xSum, fused.
    @inline(__always) mutating func addOffset(_ m: TileFloats, _ xSum: Float) { v = _mm256_fmadd_ps(m.v, _mm256_set1_ps(xSum), v) }

    @inline(__always) static func + (a: TileSums, b: TileSums) -> TileSums { TileSums(v: _mm256_add_ps(a.v, b.v)) }

    @inline(__always) func store(_ y: UnsafeMutablePointer<Float>, count: Int) {
        if count == 8 { _mm256_storeu_ps(y, v) } else { PortableTileSums(v: unsafeBitCast(v, to: SIMD8<Float>.self)).store(y, count: count) }
    }
}
#else
typealias TileFloats = PortableTileFloats
typealias Tile = PortableTile
typealias TileSums = PortableTileSums
#endif

/// The vector kernel's operations one lane at a time, for machines without AVX2 (and for testing
/// that kernel: both give the same bits).
struct PortableTileFloats: EightFloats {
    var v: SIMD8<Float>

    @inline(__always) static func halves(_ p: UnsafeRawPointer) -> PortableTileFloats {
        var v = SIMD8<Float>()
        for r in 0..<8 { v[r] = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * r, as: UInt16.self)))) }
        return PortableTileFloats(v: v)
    }

    @inline(__always) static func times(_ a: PortableTileFloats, _ s: Float) -> PortableTileFloats { PortableTileFloats(v: a.v * s) }
}

/// A tile read where it lies: plain loops over memory, which the compiler vectorises.
struct PortableTile {
    let d: PortableTileFloats, m: PortableTileFloats
    let values: UnsafeRawPointer
    let nibbles: Bool

    @inline(__always) init<Kind: TileKind>(_ p: UnsafeRawPointer, _ valuesOffset: Int, _: Kind.Type) {
        d = PortableTileFloats.halves(p)
        m = Kind.offsets(p, d)
        (values, nibbles) = (p + valuesOffset, Kind.nibbles)
    }

    /// Each row's exact Σ w·x with one x block.
    @inline(__always) func dot(_ x: UnsafePointer<Int8>, total: Int32) -> SIMD8<Int32> {
        var sums = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        withUnsafeMutableBytes(of: &sums) { raw in
            let lanes = raw.bindMemory(to: Int32.self).baseAddress!
            if nibbles {
                let q = values.assumingMemoryBound(to: UInt8.self)
                for step in 0..<4 {
                    for r in 0..<8 {
                        for t in 0..<4 {
                            let byte = q[step * 32 + 4 * r + t]
                            lanes[r] &+= Int32(byte & 0x0F) &* Int32(x[4 * step + t]) &+ Int32(byte >> 4) &* Int32(x[16 + 4 * step + t])
                        }
                    }
                }
            } else {
                let q = values.assumingMemoryBound(to: Int8.self)
                for step in 0..<8 {
                    for r in 0..<8 {
                        for t in 0..<4 { lanes[r] &+= Int32(q[step * 32 + 4 * r + t]) &* Int32(x[4 * step + t]) }
                    }
                }
            }
        }
        return SIMD8(sums.0, sums.1, sums.2, sums.3, sums.4, sums.5, sums.6, sums.7)
    }
}

/// Eight Float32 sums, one lane at a time.
struct PortableTileSums {
    var v = SIMD8<Float>()

    @inline(__always) mutating func add(_ products: SIMD8<Int32>, _ d: PortableTileFloats, _ xScale: Float) {
        for r in 0..<8 { v[r].addProduct(Float(products[r]), d.v[r] * xScale) }
    }

    @inline(__always) mutating func addOffset(_ m: PortableTileFloats, _ xSum: Float) {
        for r in 0..<8 { v[r].addProduct(m.v[r], xSum) }
    }

    @inline(__always) static func + (a: PortableTileSums, b: PortableTileSums) -> PortableTileSums { PortableTileSums(v: a.v + b.v) }

    @inline(__always) func store(_ y: UnsafeMutablePointer<Float>, count: Int) { for r in 0..<count { y[r] = v[r] } }
}
