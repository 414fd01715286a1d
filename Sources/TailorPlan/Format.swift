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
        return u == 0 ? "\(Int(v)) B" : String(format: "%.1f %@", v, units[u])
    }

    public static func count(_ n: Int) -> String {
        let d = Double(n)
        switch d {
        case ..<1e3: return "\(n)"
        case ..<1e6: return String(format: "%.1fK", d / 1e3)
        case ..<1e9: return String(format: "%.2fM", d / 1e6)
        default: return String(format: "%.2fB", d / 1e9)
        }
    }

    public static func flops(_ f: Double) -> String {
        let units: [(Double, String)] = [(1e15, "PFLOP"), (1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP"), (1e3, "kFLOP")]
        for (scale, name) in units where f >= scale { return String(format: "%.1f %@", f / scale, name) }
        return String(format: "%.0f FLOP", f)
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
