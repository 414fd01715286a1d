#if TAILOR_AVX2
import _Builtin_intrinsics.intel
#endif

/// Rows of x quantised to 8 bits per 32-value block, as llama.cpp quantises the activations that
/// meet its 4- and 8-bit weights (its Q8_0/Q8_1 rows): a block's scale is its largest magnitude
/// over 127, each value is rounded to the nearest step (ties to even), and the block also
/// keeps scale · Σ q, the sum a Q4 matrix's offsets multiply. A block's products with a weight block
/// are then exact integer sums, taken 32 at a time by the integer vector units; only their scaling
/// is floating point. This trades Float32 inputs for about two decimal digits (a block's values
/// are kept to 1/254 of its largest), the trade every quantised-inference engine makes.
struct QuantizedRows {
    let count: Int, columns: Int
    let values: UnsafeMutablePointer<Int8>  // (n, In)
    let scales: UnsafeMutablePointer<Float>  // (n, In / 32)
    let sums: UnsafeMutablePointer<Float>  // (n, In / 32): scale · Σ q

    /// Quantises n rows of `columns` values (a multiple of 32). Each row's result depends on that
    /// row alone.
    init(_ x: UnsafePointer<Float>, rows n: Int, columns: Int) {
        let blocks = columns / 32
        (count, self.columns) = (n, columns)
        values = .allocate(capacity: n * columns)
        scales = .allocate(capacity: n * blocks)
        sums = .allocate(capacity: n * blocks)
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
    }
}

extension BlockMatrix {
    /// y[i, o] for weight rows `rows` and every quantised row i of x. A block's integer products
    /// are summed in eight lanes of four neighbouring values (lane l holds values 4l…4l+3),
    /// converted to Float32, multiplied by x's block scale, and added times the weight block's scale
    /// into that lane's sum, even blocks and odd blocks apart (so consecutive blocks do not wait
    /// on each other); the two are added and their lanes summed pairwise, halves first. Q4's
    /// offsets meet x's block sums in one more dot product (`offsetDot`), added last. Every y[i, o]
    /// is these operations in this order whether x's rows are taken four at a time or alone: a
    /// row's result never depends on the other rows.
    func integerDots(_ rows: Range<Int>, _ x: QuantizedRows, into y: UnsafeMutablePointer<Float>) {
        switch encoding {
        case .q8_0: integerDots(rows, x, y, Q8Blocks.self)
        case .q4_0: integerDots(rows, x, y, Q40Blocks.self)
        case .q4_1: integerDots(rows, x, y, Q41Blocks.self)
        case .f32: preconditionFailure("BlockMatrix: Float32 rows are multiplied in Float32")
        }
    }

    @inline(__always)
    private func integerDots<Kind: BlockKind>(_ rows: Range<Int>, _ x: QuantizedRows, _ y: UnsafeMutablePointer<Float>, _: Kind.Type) {
        let blocks = columns / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks) { offsets in
            let offsets = offsets.baseAddress!
            /// Block `b` of weight row `row` into the sums of the `group` (1 or 4) x rows from `first`.
            @inline(__always) func block(_ row: UnsafeRawPointer, _ b: Int, _ first: Int, _ sums: inout (Lanes8, Lanes8, Lanes8, Lanes8), group: Int) {
                let p = row + b &* Kind.bytes, d = Kind.scale(p), w = Kind.weights(p)
                if Kind.hasOffset { offsets[b] = Kind.offset(p, d) }
                @inline(__always) func add(_ s: inout Lanes8, _ r: Int) {
                    let at = (first &+ r) &* blocks &+ b
                    s.add(w.dot(x.values + at &* 32, signed: Kind.signed), x.scales[at], d)
                }
                add(&sums.0, 0)
                if group == 4 {
                    add(&sums.1, 1)
                    add(&sums.2, 2)
                    add(&sums.3, 3)
                }
            }
            /// The weight row's dot with x row i, from its even and odd blocks' lanes.
            @inline(__always) func total(_ even: Lanes8, _ odd: Lanes8, _ i: Int) -> Float {
                let lanes = (even + odd).total
                return Kind.hasOffset ? lanes + Self.offsetDot(offsets, x.sums + i * blocks, blocks) : lanes
            }
            for o in rows {
                let row = base + o * rowBytes
                var i = 0
                // Four rows of x share each weight block's decoding.
                while i + 4 <= x.count {
                    var even = (Lanes8(), Lanes8(), Lanes8(), Lanes8()), odd = even
                    var b = 0
                    while b + 2 <= blocks {
                        block(row, b, i, &even, group: 4)
                        block(row, b + 1, i, &odd, group: 4)
                        b += 2
                    }
                    if b < blocks { block(row, b, i, &even, group: 4) }
                    y[i * self.rows + o] = total(even.0, odd.0, i)
                    y[(i + 1) * self.rows + o] = total(even.1, odd.1, i + 1)
                    y[(i + 2) * self.rows + o] = total(even.2, odd.2, i + 2)
                    y[(i + 3) * self.rows + o] = total(even.3, odd.3, i + 3)
                    i += 4
                }
                while i < x.count {
                    var even = (Lanes8(), Lanes8(), Lanes8(), Lanes8()), odd = even
                    var b = 0
                    while b + 2 <= blocks {
                        block(row, b, i, &even, group: 1)
                        block(row, b + 1, i, &odd, group: 1)
                        b += 2
                    }
                    if b < blocks { block(row, b, i, &even, group: 1) }
                    y[i * self.rows + o] = total(even.0, odd.0, i)
                    i += 1
                }
            }
        }
    }

    /// Σ m[b] · s[b] over `count` blocks: eight lanes over steps of eight, summed pairwise, then
    /// the rest one by one.
    @inline(__always)
    static func offsetDot(_ m: UnsafePointer<Float>, _ s: UnsafePointer<Float>, _ count: Int) -> Float {
        var lanes = SIMD8<Float>()
        var k = 0
        while k + 8 <= count {
            lanes.addProduct(UnsafeRawPointer(m + k).loadUnaligned(as: SIMD8<Float>.self), UnsafeRawPointer(s + k).loadUnaligned(as: SIMD8<Float>.self))
            k += 8
        }
        let h4 = lanes.lowHalf + lanes.highHalf, h2 = h4.lowHalf + h4.highHalf
        var total = h2[0] + h2[1]
        while k < count {
            total.addProduct(m[k], s[k])
            k += 1
        }
        return total
    }
}

/// What the integer kernels need of a block encoding.
protocol BlockKind {
    static var bytes: Int { get }
    static var signed: Bool { get }
    static var hasOffset: Bool { get }
    /// The offset every value of the block carries (d·q + m), meeting the block's Σx.
    static func offset(_ p: UnsafeRawPointer, _ d: Float) -> Float
    static func weights(_ p: UnsafeRawPointer) -> WeightBlock
}

extension BlockKind {
    @inline(__always) static func scale(_ p: UnsafeRawPointer) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
    }
}

/// Q8_0: d · q, q signed.
enum Q8Blocks: BlockKind {
    static var bytes: Int { 34 }
    static var signed: Bool { true }
    static var hasOffset: Bool { false }
    @inline(__always) static func offset(_ p: UnsafeRawPointer, _ d: Float) -> Float { 0 }
    @inline(__always) static func weights(_ p: UnsafeRawPointer) -> WeightBlock { WeightBlock(signed: p + 2) }
}

/// Q4_0: d · (q − 8) = d · q − 8d.
enum Q40Blocks: BlockKind {
    static var bytes: Int { 18 }
    static var signed: Bool { false }
    static var hasOffset: Bool { true }
    @inline(__always) static func offset(_ p: UnsafeRawPointer, _ d: Float) -> Float { -8 * d }
    @inline(__always) static func weights(_ p: UnsafeRawPointer) -> WeightBlock { WeightBlock(nibbles: p + 2) }
}

/// Q4_1: d · q + m.
enum Q41Blocks: BlockKind {
    static var bytes: Int { 20 }
    static var signed: Bool { false }
    static var hasOffset: Bool { true }
    @inline(__always) static func offset(_ p: UnsafeRawPointer, _ d: Float) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))))
    }
    @inline(__always) static func weights(_ p: UnsafeRawPointer) -> WeightBlock { WeightBlock(nibbles: p + 4) }
}

#if TAILOR_AVX2
/// A block's integer products, summed in eight lanes.
typealias BlockProducts = __m256i

/// Eight Float32 lane sums (one AVX register).
struct Lanes8 {
    var v = _mm256_setzero_ps()

    /// lanes += (Float(products) · xScale) · wScale, the second product fused with the sum.
    @inline(__always) mutating func add(_ products: BlockProducts, _ xScale: Float, _ wScale: Float) {
        v = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(products), _mm256_set1_ps(xScale)), _mm256_set1_ps(wScale), v)
    }

    @inline(__always) static func + (a: Lanes8, b: Lanes8) -> Lanes8 { Lanes8(v: _mm256_add_ps(a.v, b.v)) }

    @inline(__always) var total: Float { PortableLanes8(v: unsafeBitCast(v, to: SIMD8<Float>.self)).total }
}

/// One weight block as 32 bytes in a register: Q4's nibbles unpacked (values 0…15, low nibbles
/// first) or Q8_0's signed values.
struct WeightBlock {
    let q: __m256i

    @inline(__always) init(signed p: UnsafeRawPointer) { q = _mm256_loadu_si256(p.assumingMemoryBound(to: __m256i.self)) }

    @inline(__always) init(nibbles p: UnsafeRawPointer) {
        let packed = _mm_loadu_si128(p.assumingMemoryBound(to: __m128i.self))
        q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F))
    }

    /// The block's products with 32 quantised x values, summed in lanes of four neighbours. The
    /// unsigned-by-signed multiply takes Q8_0's signs onto x. With VNNI one instruction sums each
    /// lane's four products; without, byte pairs are summed to 16 bits (no pair can overflow: at
    /// most 2 · 128 · 127) and then to lanes. Both sums are exact, so both give the same bits.
    @inline(__always) func dot(_ x: UnsafePointer<Int8>, signed: Bool) -> BlockProducts {
        let xv = _mm256_loadu_si256(UnsafeRawPointer(x).assumingMemoryBound(to: __m256i.self))
        let (w, v) = signed ? (_mm256_sign_epi8(q, q), _mm256_sign_epi8(xv, q)) : (q, xv)
        #if TAILOR_VNNI
        // The masked form is the one Swift can call (the plain one is a C macro); all lanes kept.
        return _mm256_mask_dpbusd_epi32(_mm256_setzero_si256(), 0xFF, w, v)
        #else
        return _mm256_madd_epi16(_mm256_maddubs_epi16(w, v), _mm256_set1_epi16(1))
        #endif
    }
}
#else
typealias BlockProducts = SIMD8<Int32>
typealias Lanes8 = PortableLanes8
typealias WeightBlock = PortableWeightBlock
#endif
/// Eight Float32 lane sums: the vector kernel's operations, one lane at a time, for machines
/// without AVX2 (and for testing that kernel: both give the same bits).
struct PortableLanes8 {
    var v = SIMD8<Float>()

    @inline(__always) mutating func add(_ products: SIMD8<Int32>, _ xScale: Float, _ wScale: Float) {
        for l in 0..<8 { v[l].addProduct(Float(products[l]) * xScale, wScale) }
    }

    @inline(__always) static func + (a: PortableLanes8, b: PortableLanes8) -> PortableLanes8 { PortableLanes8(v: a.v + b.v) }

    /// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)).
    @inline(__always) var total: Float {
        let h4 = v.lowHalf + v.highHalf
        let h2 = h4.lowHalf + h4.highHalf
        return h2[0] + h2[1]
    }
}

/// One weight block's 32 values as integers (Q4's nibbles 0…15, low nibbles first; Q8_0's signed
/// values), read where they lie: plain loops over memory, which the compiler vectorises.
struct PortableWeightBlock {
    let p: UnsafeRawPointer
    let nibbles: Bool

    @inline(__always) init(signed p: UnsafeRawPointer) { (self.p, nibbles) = (p, false) }

    @inline(__always) init(nibbles p: UnsafeRawPointer) { (self.p, nibbles) = (p, true) }

    /// Lane l: Σ of the products of values 4l…4l+3 (exact).
    @inline(__always) func dot(_ x: UnsafePointer<Int8>, signed: Bool) -> SIMD8<Int32> {
        var sums = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        withUnsafeMutableBytes(of: &sums) { raw in
            let lanes = raw.bindMemory(to: Int32.self).baseAddress!
            if nibbles {
                let q = p.assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    lanes[j / 4] &+= Int32(q[j] & 0x0F) &* Int32(x[j])
                    lanes[4 + j / 4] &+= Int32(q[j] >> 4) &* Int32(x[j + 16])
                }
            } else {
                let q = p.assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { lanes[j / 4] &+= Int32(q[j]) &* Int32(x[j]) }
            }
        }
        return SIMD8(sums.0, sums.1, sums.2, sums.3, sums.4, sums.5, sums.6, sums.7)
    }
}
