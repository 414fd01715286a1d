/// Branch-free float approximations that the compiler vectorises; libm's `tanhf`
/// per element was the largest cost of a GPT step after matmul.
enum FastMath {
    /// eˣ for x ≤ 0 (softmax-style arguments, already shifted by the row maximum):
    /// x = n·ln2 + r with n rounded through the 1.5·2²³ trick (integer work in wrapping
    /// bit arithmetic, so there is no trapping conversion and loops vectorise), a degree-6
    /// polynomial for eʳ (Cephes `expf` coefficients, about 1 ulp) and 2ⁿ from bits.
    /// Below −87 (where eˣ is subnormal) the result is 0.
    @inline(__always)
    static func expNonPositive(_ v: Float) -> Float {
        let x = v < -87 ? -87 : v
        let shifted = x * 1.442_695_04 + 12_582_912  // 1.5·2²³: the float's low bits hold round(x·log₂e)
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * r * r + r + 1
        let exponent = (shifted.bitPattern &- Float(12_582_912).bitPattern) &+ 127  // n + 127, wrapping
        let scale = Float(bitPattern: exponent << 23)
        return v < -87 ? 0 : p * scale
    }

    /// σ(x) = 1/(1 + e⁻ˣ) through e^(−|x|), so the exponential never overflows and the
    /// vectorised `expNonPositive` serves both signs.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = expNonPositive(x < 0 ? x : -x)
        let inv = 1 / (1 + e)
        return x < 0 ? e * inv : inv
    }

    /// tanh(x) as x·P(x²)/Q(x²) on [−7.9, 7.9] (beyond that tanh is ±1 in float32):
    /// the rational approximation used by Eigen's `ptanh` for floats, accurate to a few ulp.
    @inline(__always)
    static func tanh(_ v: Float) -> Float {
        // Comparisons rather than min/max, whose NaN rules keep loops from vectorising.
        let x = v < -7.905_311 ? -7.905_311 : (v > 7.905_311 ? 7.905_311 : v)
        let x2 = x * x
        var p: Float = -2.760_768_5e-16
        p = p * x2 + 2.000_187_9e-13
        p = p * x2 + -8.604_671_5e-11
        p = p * x2 + 5.122_297_1e-08
        p = p * x2 + 1.485_722_4e-05
        p = p * x2 + 6.372_619_3e-04
        p = p * x2 + 4.893_524_6e-03
        p = p * x
        var q: Float = 1.198_258_4e-06
        q = q * x2 + 1.185_347_1e-04
        q = q * x2 + 2.268_434_6e-03
        q = q * x2 + 4.893_525_2e-03
        return p / q
    }
}
