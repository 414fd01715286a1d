import Foundation

/// A value in a chat template: what Jinja's Python objects become here. Dictionaries keep
/// their keys' order (`tojson` and `items()` follow it, as Python's dicts do).
public indirect enum JinjaValue: Sendable, Equatable {
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([JinjaValue])
    case dict([(String, JinjaValue)])
    /// `namespace(…)`: the one mutable object templates use to carry state out of loops; its
    /// attributes live in the evaluator's namespace table under this id.
    case namespace(Int)

    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): true
        case let (.bool(x), .bool(y)): x == y
        case let (.string(x), .string(y)): x == y
        case let (.list(x), .list(y)): x == y
        case let (.dict(x), .dict(y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.namespace(x), .namespace(y)): x == y
        default:
            if let x = a.number, let y = b.number { x == y } else { false }
        }
    }

    /// Python's truthiness.
    var truthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .dict(let d): !d.isEmpty
        case .namespace: true
        }
    }

    /// The value as a number (booleans count as 0 and 1, as in Python).
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .bool(let b): b ? 1 : 0
        default: nil
        }
    }

    /// Looks `key` up in a dictionary; undefined where it is not there.
    subscript(key: String) -> JinjaValue {
        guard case .dict(let entries) = self else { return .undefined }
        return entries.first { $0.0 == key }?.1 ?? .undefined
    }

    /// What `{{ value }}` writes: Python's `str()`.
    var text: String {
        switch self {
        case .undefined: ""
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : String(d)
        case .string(let s): s
        case .list, .dict, .namespace: repr
        }
    }

    /// Python's `repr()`, for lists and dicts written out.
    var repr: String {
        switch self {
        case .string(let s): "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        case .list(let l): "[" + l.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let d): "{" + d.map { JinjaValue.string($0.0).repr + ": " + $0.1.repr }.joined(separator: ", ") + "}"
        case .namespace: "<Namespace>"
        default: text
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "none"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .list: "list"
        case .dict: "mapping"
        case .namespace: "namespace"
        }
    }
}
