/// Arithmetic on sizes read from files. A file may claim any dimensions; a product or sum
/// that does not fit in an `Int` is malformed input, reported as nil so the reader can say
/// so, never a trap.
public enum CheckedSize {
    /// The product of `dims` (each ≥ 0), or nil when it overflows or a dimension is negative.
    public static func product<S: Sequence>(_ dims: S) -> Int? where S.Element == Int {
        var total = 1
        for d in dims {
            guard d >= 0 else { return nil }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = p
        }
        return total
    }

    /// `a * b`, or nil when it overflows.
    public static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : p
    }

    /// `a + b`, or nil when it overflows.
    public static func add(_ a: Int, _ b: Int) -> Int? {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : s
    }
}
