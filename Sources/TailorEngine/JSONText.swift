import Foundation
import TailorSpec

/// JSON text for the records a run writes (locks, run summaries): keys sorted, two-space
/// indentation. Written by hand because Foundation's writer sorts keys through dynamic casts,
/// which made writing one 1,000-node lock cost more than the whole no-op run it records.
public enum JSONText {
    public static func render(_ value: Any) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        return out + "\n"
    }

    /// One line, no spaces (JSON Lines records), keys sorted.
    public static func compact(_ value: Any, into out: inout String) {
        switch value {
        case let dict as [String: Any]:
            out += "{"
            for (n, key) in dict.keys.sorted().enumerated() {
                if n > 0 { out += "," }
                Value.writeJSONString(key, into: &out)
                out += ":"
                compact(dict[key]!, into: &out)
            }
            out += "}"
        case let list as [Any]:
            out += "["
            for (n, item) in list.enumerated() {
                if n > 0 { out += "," }
                compact(item, into: &out)
            }
            out += "]"
        default:
            write(value, indent: 0, into: &out)
        }
    }

    static func write(_ value: Any, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1), close = String(repeating: "  ", count: indent)
        switch value {
        case let s as String: Value.writeJSONString(s, into: &out)
        case let n as NSNumber:
            // Swift numbers and Bools and JSON-parsed values all arrive as NSNumber; its type
            // code tells a Bool ("c") from a 0 or 1, and a float from an integer.
            switch String(cString: n.objCType) {
            case "c", "B": out += n.boolValue ? "true" : "false"
            case "d", "f":
                let d = n.doubleValue
                out += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)") : "null"
            default: out += String(n.int64Value)
            }
        case let dict as [String: Any]:
            if dict.isEmpty { return out += "{}" }
            out += "{\n"
            for (n, key) in dict.keys.sorted().enumerated() {
                out += pad
                Value.writeJSONString(key, into: &out)
                out += ": "
                write(dict[key]!, indent: indent + 1, into: &out)
                out += n == dict.count - 1 ? "\n" : ",\n"
            }
            out += close + "}"
        case let list as [Any]:
            if list.isEmpty { return out += "[]" }
            out += "[\n"
            for (n, item) in list.enumerated() {
                out += pad
                write(item, indent: indent + 1, into: &out)
                out += n == list.count - 1 ? "\n" : ",\n"
            }
            out += close + "]"
        default: out += "null"
        }
    }
}
