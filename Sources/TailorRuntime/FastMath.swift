/// Branch-free float approximations that the compiler vectorises; libm's `tanhf`
/// per element was the largest cost of a GPT step after matmul.
enum FastMath {
    /// The same approximation on 16 lanes at once.
    @inline(__always)
    static func tanh(_ v: SIMD16<Float>) -> SIMD16<Float> {
        let x = v.clamped(lowerBound: SIMD16(repeating: -7.905_311), upperBound: SIMD16(repeating: 7.905_311))
        let x2 = x * x
        var p = SIMD16<Float>(repeating: -2.760_768_5e-16)
        p = p * x2 + 2.000_187_9e-13
        p = p * x2 + -8.604_671_5e-11
        p = p * x2 + 5.122_297_1e-08
        p = p * x2 + 1.485_722_4e-05
        p = p * x2 + 6.372_619_3e-04
        p = p * x2 + 4.893_524_6e-03
        p = p * x
        var q = SIMD16<Float>(repeating: 1.198_258_4e-06)
        q = q * x2 + 1.185_347_1e-04
        q = q * x2 + 2.268_434_6e-03
        q = q * x2 + 4.893_525_2e-03
        return p / q
    }

    /// out[i] = kernel(a[i]) over `n` elements, 16 lanes at a time, in parallel chunks.
    @inline(__always)
    static func map16(
        _ n: Int, _ a: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        _ kernel: (SIMD16<Float>) -> SIMD16<Float>
    ) {
        Parallel.forEach(n, grain: 1 << 14) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: kernel(x), as: SIMD16<Float>.self)
                i += 16
            }
            while i < r.upperBound {
                out[i] = kernel(SIMD16(repeating: a[i]))[0]
                i += 1
            }
        }
    }

    /// out[i] = kernel(a[i], b[i]) over `n` elements, 16 lanes at a time, in parallel chunks.
    @inline(__always)
    static func map16(
        _ n: Int, _ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        _ kernel: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>
    ) {
        Parallel.forEach(n, grain: 1 << 14) { r in
            var i = r.lowerBound
            while i + 16 <= r.upperBound {
                let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
                let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: kernel(x, y), as: SIMD16<Float>.self)
                i += 16
            }
            while i < r.upperBound {
                out[i] = kernel(SIMD16(repeating: a[i]), SIMD16(repeating: b[i]))[0]
                i += 1
            }
        }
    }

    /// tanh(x) as x·P(x²)/Q(x²) on [−7.9, 7.9] (beyond that tanh is ±1 in float32):
    /// the rational approximation used by Eigen's `ptanh` for floats, accurate to a few ulp.
    @inline(__always)
    static func tanh(_ v: Float) -> Float {
        let x = Swift.min(Swift.max(v, -7.905_311), 7.905_311)
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
