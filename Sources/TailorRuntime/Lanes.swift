/// SIMD helpers for row kernels. A plain `for` loop summing floats runs one add at a time
/// (the compiler may not reorder float additions); these keep 16 running sums and combine
/// them in a fixed order, so a row reduction is several times faster and its result still
/// depends only on the data, never on threads.
enum Lanes {
    static let width = 16

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// Σᵢ f(i) over `0..<n`: `lanes(i)` gives f for i..<i+16, `scalar(i)` for the tail.
    @inline(__always)
    static func sum(_ n: Int, lanes: (Int) -> SIMD16<Float>, scalar: (Int) -> Float) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        var i = 0
        while i + width <= n {
            acc += lanes(i)
            i += width
        }
        var tail: Float = 0
        while i < n {
            tail += scalar(i)
            i += 1
        }
        return acc.sum() + tail
    }
}
