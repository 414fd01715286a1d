/// Branch-free float approximations that the compiler vectorises; libm's `tanhf`
/// per element was the largest cost of a GPT step after matmul.
enum FastMath {
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
