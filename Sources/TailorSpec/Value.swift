import TailorDiagnostics

/// A checked spec value: typed by the schema (not by YAML's guessing), with the
/// place it was written, and defaults filled in. The planner hashes these, so two
/// spellings of one value (`1e-3`, `0.001`) are the same `Value`.
public struct Value: Sendable {
    public indirect enum Kind: Sendable {
        case string(String)
        case int(Int)
        case number(Double)
        case bool(Bool)
        case list([Value])
        /// Entries in schema order (or source order for free-form maps).
        case object([(String, Value)])
    }

    public var kind: Kind
    /// Where the user wrote it; nil for defaults.
    public var location: SourceLocation?

    public init(_ kind: Kind, at location: SourceLocation?) {
        self.kind = kind
        self.location = location
    }

    public var isDefault: Bool { location == nil }

    public var string: String? { if case .string(let s) = kind { s } else { nil } }
    public var int: Int? { if case .int(let i) = kind { i } else { nil } }
    public var bool: Bool? { if case .bool(let b) = kind { b } else { nil } }
    public var list: [Value]? { if case .list(let l) = kind { l } else { nil } }
    public var entries: [(String, Value)]? { if case .object(let o) = kind { o } else { nil } }

    /// A number, also when the schema accepted an integer.
    public var number: Double? {
        switch kind {
        case .number(let d): d
        case .int(let i): Double(i)
        default: nil
        }
    }

    /// The entry `key` of an object value.
    public subscript(key: String) -> Value? {
        entries?.first { $0.0 == key }?.1
    }

    /// Follows a dotted path of object keys.
    public subscript(path path: [String]) -> Value? {
        var v: Value? = self
        for k in path { v = v?[k] }
        return v
    }

    public var keys: [String] { entries?.map(\.0) ?? [] }

    /// Compact canonical JSON: keys sorted, numbers in shortest round-trip form,
    /// integers without a fraction. This is the text content keys are computed from.
    public var canonicalJSON: String {
        var out = ""
        writeCanonical(into: &out)
        return out
    }

    func writeCanonical(into out: inout String) {
        switch kind {
        case .string(let s): Value.writeJSONString(s, into: &out)
        case .int(let i): out += String(i)
        case .number(let d): out += Value.canonicalNumber(d)
        case .bool(let b): out += b ? "true" : "false"
        case .list(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                v.writeCanonical(into: &out)
            }
            out += "]"
        case .object(let entries):
            out += "{"
            for (i, (k, v)) in entries.sorted(by: { $0.0 < $1.0 }).enumerated() {
                if i > 0 { out += "," }
                Value.writeJSONString(k, into: &out)
                out += ":"
                v.writeCanonical(into: &out)
            }
            out += "}"
        }
    }

    /// Shortest text that reads back as the same Double; integral values keep `.0`
    /// so that a number never looks like an integer.
    public static func canonicalNumber(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
        return "\(d)"
    }

    /// Appends a string value as a JSON string literal (nothing for other kinds).
    public func writeCanonicalString(into out: inout String) {
        if let s = string { Value.writeJSONString(s, into: &out) }
    }

    /// Appends `s` as a JSON string literal: quotes, backslashes and control characters
    /// escaped, everything else as is (content keys and every JSON Tailor writes by hand).
    public static func writeJSONString(_ s: String, into out: inout String) {
        out += "\""
        // Most text needs no escaping: append it whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += s
            return out += "\""
        }
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count)
                        + String(u.value, radix: 16)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// Human-readable form used in plan listings: strings bare, lists and objects inline.
    public var display: String {
        switch kind {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .number(let d): return "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .list(let items): return "[" + items.map(\.display).joined(separator: ", ") + "]"
        case .object(let entries): return "{" + entries.map { "\($0.0): \($0.1.display)" }.joined(separator: ", ") + "}"
        }
    }
}
