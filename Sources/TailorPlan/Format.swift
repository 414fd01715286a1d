import Foundation

/// Number formatting shared by the plan renderers: short, unit-bearing, stable.
public enum Format {
    public static func bytes(_ b: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = b, u = 0
        while v >= 1024, u < units.count - 1 {
            v /= 1024
            u += 1
        }
        return u == 0 ? "\(Int(v)) B" : "\(fixed(v, 1)) \(units[u])"
    }

    public static func count(_ n: Int) -> String {
        let d = Double(n)
        switch d {
        case ..<1e3: return "\(n)"
        case ..<1e6: return fixed(d / 1e3, 1) + "K"
        case ..<1e9: return fixed(d / 1e6, 2) + "M"
        default: return fixed(d / 1e9, 2) + "B"
        }
    }

    public static func flops(_ f: Double) -> String {
        let units: [(Double, String)] = [(1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP"), (1e3, "kFLOP")]
        for (scale, name) in units where f >= scale { return "\(fixed(f / scale, 1)) \(name)" }
        return "\(Int(f.rounded())) FLOP"
    }

    /// `v` rounded to `digits` decimals, without Foundation's slow `String(format:)`.
    public static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let n = Int((abs(v) * Double(scale)).rounded())
        let frac = String(n % scale)
        let text = "\(n / scale)" + (digits > 0 ? "." + String(repeating: "0", count: digits - frac.count) + frac : "")
        return v < 0 && n != 0 ? "-" + text : text
    }

    public static func duration(_ s: Double) -> String {
        if s < 1 { return "<1s" }
        let total = Int(s.rounded())
        let h = total / 3600, m = (total % 3600) / 60, sec = total % 60
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m \(sec)s" }
        return "\(sec)s"
    }
}
