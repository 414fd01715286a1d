import Foundation

/// Renders parsed template nodes: variables in scopes (a `for` body's `set` stays in the
/// loop, as in Jinja; `namespace()` objects carry state out), Python's semantics for
/// truthiness, `+`, comparisons and `str()`, and the filters, tests and methods chat
/// templates call.
struct JinjaEvaluator {
    private var scopes: [[String: JinjaValue]]
    private var namespaces: [[String: JinjaValue]] = []
    private var out = ""

    init(_ globals: [String: JinjaValue]) { scopes = [globals] }

    static func render(_ nodes: [JinjaNode], _ globals: [String: JinjaValue]) throws -> String {
        var evaluator = JinjaEvaluator(globals)
        try evaluator.run(nodes)
        return evaluator.out
    }

    private mutating func run(_ nodes: [JinjaNode]) throws {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .output(let e): out += try eval(e).text
            case .ifChain(let branches, let otherwise):
                if let branch = try branches.first(where: { try eval($0.condition).truthy }) {
                    try run(branch.body)
                } else {
                    try run(otherwise)
                }
            case .forLoop(let names, let iterable, let filter, let body, let otherwise):
                var items = try Self.iterate(try eval(iterable))
                if let filter {
                    items = try items.filter { item in
                        scopes.append(try Self.bind(names, item))
                        defer { scopes.removeLast() }
                        return try eval(filter).truthy
                    }
                }
                if items.isEmpty { try run(otherwise) }
                for (i, item) in items.enumerated() {
                    var scope = try Self.bind(names, item)
                    scope["loop"] = .dict([
                        ("index", .int(i + 1)), ("index0", .int(i)), ("first", .bool(i == 0)), ("last", .bool(i == items.count - 1)),
                        ("length", .int(items.count)), ("revindex", .int(items.count - i)), ("revindex0", .int(items.count - i - 1)),
                        ("previtem", i > 0 ? items[i - 1] : .undefined), ("nextitem", i + 1 < items.count ? items[i + 1] : .undefined),
                    ])
                    scopes.append(scope)
                    defer { scopes.removeLast() }
                    try run(body)
                }
            case .set(let name, let attribute, let e):
                let value = try eval(e)
                if let attribute {
                    guard case .namespace(let id) = lookup(name) else { throw JinjaError.render("`set \(name).\(attribute)` needs `\(name)` to be a namespace()") }
                    namespaces[id][attribute] = value
                } else {
                    scopes[scopes.count - 1][name] = value
                }
            }
        }
    }

    private func lookup(_ name: String) -> JinjaValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return .undefined
    }

    static func bind(_ names: [String], _ item: JinjaValue) throws -> [String: JinjaValue] {
        guard names.count > 1 else { return [names[0]: item] }
        guard case .list(let parts) = item, parts.count == names.count else {
            throw JinjaError.render("cannot unpack \(item.typeName) into \(names.count) names")
        }
        return Dictionary(uniqueKeysWithValues: zip(names, parts))
    }

    static func iterate(_ v: JinjaValue) throws -> [JinjaValue] {
        switch v {
        case .list(let l): return l
        case .dict(let d): return d.map { .string($0.0) }
        case .string(let s): return s.map { .string(String($0)) }
        case .undefined, .none: return []
        default: throw JinjaError.render("cannot loop over a \(v.typeName)")
        }
    }

    // MARK: expressions

    private mutating func eval(_ e: JinjaExpr) throws -> JinjaValue {
        switch e {
        case .literal(let v): return v
        case .name(let n): return lookup(n)
        case .list(let items): return .list(try items.map { try eval($0) })
        case .dict(let entries): return .dict(try entries.map { (try eval($0.0).text, try eval($0.1)) })
        case .attribute(let base, let name):
            let v = try eval(base)
            if case .namespace(let id) = v { return namespaces[id][name] ?? .undefined }
            return v[name]
        case .item(let base, let key):
            let (v, k) = (try eval(base), try eval(key))
            switch (v, k) {
            case let (.list(l), .int(i)):  // out of range: undefined, as in Jinja
                let j = i < 0 ? l.count &+ i : i
                return l.indices.contains(j) ? l[j] : .undefined
            case let (.string(s), .int(i)):
                let c = Array(s), j = i < 0 ? c.count &+ i : i
                return c.indices.contains(j) ? .string(String(c[j])) : .undefined
            case (.namespace(let id), .string(let key)): return namespaces[id][key] ?? .undefined
            default: return v[k.text]
            }
        case .slice(let base, let start, let stop, let step):
            let v = try eval(base)
            let (a, b, s) = (try start.map { try eval($0) }, try stop.map { try eval($0) }, try step.map { try eval($0) })
            func cut<T>(_ items: [T]) throws -> [T] {
                let n = items.count
                // Bounds past the ends mean the ends: clamped before they become Ints.
                func bounded(_ v: JinjaValue?) -> Int? {
                    v?.number.map { $0.isNaN ? 0 : Int(Swift.max(Swift.min($0, Double(n) + 1), -Double(n) - 1)) }
                }
                let st = s.map { v in v.number.map { $0.isNaN ? 0 : Int(Swift.max(Swift.min($0, 1e9), -1e9)) } ?? 0 } ?? 1
                guard st != 0 else { throw JinjaError.render("a slice step of 0") }
                func clamp(_ x: JinjaValue?, _ dflt: Int) -> Int {
                    guard let x = bounded(x) else { return dflt }
                    let y = x < 0 ? x + n : x
                    return st > 0 ? Swift.min(Swift.max(y, 0), n) : Swift.min(Swift.max(y, -1), n - 1)
                }
                var out: [T] = []
                var i = clamp(a, st > 0 ? 0 : n - 1)
                let end = clamp(b, st > 0 ? n : -1)
                while st > 0 ? i < end : i > end {
                    out.append(items[i])
                    i += st
                }
                return out
            }
            switch v {
            case .list(let l): return .list(try cut(l))
            case .string(let str): return .string(String(try cut(Array(str))))
            default: throw JinjaError.render("cannot slice a \(v.typeName)")
            }
        case .call(let callee, let args, let kwargs):
            let values = try args.map { try eval($0) }
            let named = try kwargs.map { ($0.0, try eval($0.1)) }
            if case .attribute(let base, let method) = callee {
                return try Self.method(method, of: try eval(base), values)
            }
            guard case .name(let function) = callee else { throw JinjaError.render("only functions and methods can be called") }
            return try call(function, values, named)
        case .filter(let base, let name, let args, let kwargs):
            return try Self.filter(name, try eval(base), try args.map { try eval($0) }, try kwargs.map { ($0.0, try eval($0.1)) })
        case .test(let base, let name, let args, let negated):
            let result = try Self.test(name, try eval(base), try args.map { try eval($0) })
            return .bool(result != negated)
        case .unary(let op, let x):
            let v = try eval(x)
            if op == "not" { return .bool(!v.truthy) }
            if case .int(let i) = v {
                guard i != .min else { throw JinjaError.render("a number out of range") }
                return .int(-i)
            }
            guard let d = v.number else { throw JinjaError.render("cannot negate a \(v.typeName)") }
            return .double(-d)
        case .binary(let op, let l, let r):
            if op == "and" { let a = try eval(l); return a.truthy ? try eval(r) : a }
            if op == "or" { let a = try eval(l); return a.truthy ? a : try eval(r) }
            return try Self.binary(op, try eval(l), try eval(r))
        case .conditional(let value, let condition, let otherwise):
            return try eval(condition).truthy ? try eval(value) : try otherwise.map { try eval($0) } ?? .undefined
        }
    }

    private mutating func call(_ function: String, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        switch function {
        case "raise_exception": throw JinjaError.raised(args.first?.text ?? "")
        case "namespace":
            namespaces.append(Dictionary(kwargs, uniquingKeysWith: { _, b in b }))
            return .namespace(namespaces.count - 1)
        case "range":
            // Python's range over integers, at most 100,000 of them (jinja2's sandbox limit).
            let n = args.compactMap { v -> Int? in if case .int(let i) = v { i } else { nil } }
            guard (1...3).contains(args.count), n.count == args.count else { throw JinjaError.render("range() takes one to three integers") }
            let (start, stop, step) = n.count == 1 ? (0, n[0], 1) : (n[0], n[1], n.count > 2 ? n[2] : 1)
            guard step != 0 else { throw JinjaError.render("range() step of 0") }
            let count = (Double(stop) - Double(start)) / Double(step)
            guard count <= 100_000 else { throw JinjaError.render("range() of more than 100,000 numbers") }
            return .list(Swift.stride(from: start, to: stop, by: step).map { .int($0) })
        default:
            throw JinjaError.render("the function `\(function)` is not supported by Tailor's template reader")
        }
    }

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue) throws -> JinjaValue {
        switch op {
        case "==": return .bool(a == b)
        case "!=": return .bool(a != b)
        case "~": return .string(a.text + b.text)
        case "in":
            switch b {
            case .string(let s): return .bool(s.contains(a.text))
            case .list(let l): return .bool(l.contains(a))
            case .dict(let d): return .bool(d.contains { $0.0 == a.text })
            case .undefined: return .bool(false)
            default: throw JinjaError.render("`in` needs a string, list or mapping, not a \(b.typeName)")
            }
        case "<", ">", "<=", ">=":
            let order: Bool
            if case .string(let x) = a, case .string(let y) = b {
                order = op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y
            } else if let x = a.number, let y = b.number {
                order = op == "<" ? x < y : op == ">" ? x > y : op == "<=" ? x <= y : x >= y
            } else {
                throw JinjaError.render("cannot compare a \(a.typeName) with a \(b.typeName)")
            }
            return .bool(order)
        case "+":
            switch (a, b) {
            case let (.string(x), .string(y)): return .string(x + y)
            case let (.list(x), .list(y)): return .list(x + y)
            default: break
            }
        default: break
        }
        if case .int(let x) = a, case .int(let y) = b {
            // Python's ints do not overflow; these do, and say so rather than wrap.
            func checked(_ r: (partialValue: Int, overflow: Bool)) throws -> JinjaValue {
                guard !r.overflow else { throw JinjaError.render("a number out of range") }
                return .int(r.partialValue)
            }
            switch op {
            case "+": return try checked(x.addingReportingOverflow(y))
            case "-": return try checked(x.subtractingReportingOverflow(y))
            case "*": return try checked(x.multipliedReportingOverflow(by: y))
            case "**" where y >= 0:
                if x == 0 || x == 1 { return .int(y == 0 ? 1 : x) }
                if x == -1 { return .int(y % 2 == 0 ? 1 : -1) }
                var p = 1
                for _ in 0..<Swift.min(y, 64) {  // |x| ≥ 2 overflows within 63 products
                    let r = p.multipliedReportingOverflow(by: x)
                    guard !r.overflow else { throw JinjaError.render("a number out of range") }
                    p = r.partialValue
                }
                return .int(p)
            case "//", "%":
                guard y != 0 else { throw JinjaError.render("division by zero") }
                let (q, overflow) = x.dividedReportingOverflow(by: y)
                guard !overflow else { throw JinjaError.render("a number out of range") }
                // Floor division and a remainder with the divisor's sign, as in Python.
                let floor = x % y != 0 && (x < 0) != (y < 0) ? q - 1 : q
                return .int(op == "//" ? floor : x &- floor &* y)  // the remainder is in range; its parts may wrap
            default: break
            }
        }
        if op == "*", case .string(let s) = a, case .int(let n) = b {
            guard n <= 0 || s.count <= 1_000_000 / n else { throw JinjaError.render("a string of more than 1,000,000 characters") }
            return .string(String(repeating: s, count: Swift.max(0, n)))
        }
        guard let x = a.number, let y = b.number else {
            throw JinjaError.render("cannot apply `\(op)` to a \(a.typeName) and a \(b.typeName)")
        }
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw JinjaError.render("division by zero") }
            return .double(x / y)
        case "//": return .double((x / y).rounded(.down))
        case "%": return .double(x - (x / y).rounded(.down) * y)
        case "**": return .double(Foundation.pow(x, y))
        default: throw JinjaError.render("unknown operator `\(op)`")
        }
    }

    /// How many positional arguments each filter takes, and the keywords it knows; any other
    /// argument is refused rather than ignored.
    static let filterArguments: [String: (max: Int, keywords: Set<String>)] = [
        "trim": (0, []), "upper": (0, []), "lower": (0, []), "capitalize": (0, []), "length": (0, []), "count": (0, []),
        "default": (2, ["default_value", "boolean"]), "d": (2, ["default_value", "boolean"]), "first": (0, []), "last": (0, []),
        "join": (1, ["d"]), "list": (0, []), "reverse": (0, []), "string": (0, []), "int": (1, ["default"]), "float": (1, ["default"]),
        "replace": (2, ["old", "new"]), "tojson": (1, ["indent"]), "items": (0, []),
    ]

    static func filter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
        guard let accepted = filterArguments[name] else {
            throw JinjaError.render("the filter `\(name)` is not supported by Tailor's template reader")
        }
        if args.count > accepted.max || kwargs.contains(where: { !accepted.keywords.contains($0.0) }) {
            throw JinjaError.render("the filter `\(name)` is used with arguments Tailor's template reader does not support")
        }
        func argument(_ position: Int, _ keyword: String) -> JinjaValue? {
            position < args.count ? args[position] : kwargs.first { $0.0 == keyword }?.1
        }
        /// A number as an Int, where it is one (NaN, infinities and huge values are not).
        func integer(_ d: Double) -> Int? { d.isFinite && abs(d) < 9.2e18 ? Int(d.rounded(.towardZero)) : nil }
        switch name {
        case "trim": return .string(v.text.trimmingCharacters(in: .whitespacesAndNewlines))
        case "upper": return .string(v.text.uppercased())
        case "lower": return .string(v.text.lowercased())
        case "capitalize": return .string(v.text.prefix(1).uppercased() + v.text.dropFirst().lowercased())
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            default: throw JinjaError.render("`length` of a \(v.typeName)")
            }
        case "default", "d":
            let fallback = argument(0, "default_value") ?? .string("")
            if case .undefined = v { return fallback }
            return argument(1, "boolean")?.truthy == true && !v.truthy ? fallback : v
        case "first": return try iterate(v).first ?? .undefined
        case "last": return try iterate(v).last ?? .undefined
        case "join": return .string(try iterate(v).map(\.text).joined(separator: argument(0, "d")?.text ?? ""))
        case "list": return .list(try iterate(v))
        case "reverse":
            if case .string(let s) = v { return .string(String(s.reversed())) }
            return .list(try iterate(v).reversed())
        case "string": return .string(v.text)
        case "int":
            // Jinja's int: the value's, else the default (0) where it is not a number.
            if case .int(let i) = v { return .int(i) }
            let d = v.number ?? Double(v.text.trimmingCharacters(in: .whitespaces))
            return d.flatMap(integer).map { .int($0) } ?? argument(0, "default") ?? .int(0)
        case "float":
            if let d = v.number ?? Double(v.text.trimmingCharacters(in: .whitespaces)) { return .double(d) }
            return argument(0, "default") ?? .double(0)
        case "replace":
            return .string(v.text.replacingOccurrences(of: argument(0, "old")?.text ?? "", with: argument(1, "new")?.text ?? ""))
        case "tojson":
            let indent = argument(0, "indent")?.number.flatMap(integer).map { Swift.min(Swift.max($0, 0), 32) }
            return .string(JinjaJSON.write(v, indent: indent))
        default:  // items
            guard case .dict(let d) = v else { throw JinjaError.render("`items` of a \(v.typeName)") }
            return .list(d.map { .list([.string($0.0), $0.1]) })
        }
    }

    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue]) throws -> Bool {
        switch name {
        case "defined": if case .undefined = v { return false } else { return true }
        case "undefined": if case .undefined = v { return true } else { return false }
        case "none": return v == .none
        case "string": if case .string = v { return true } else { return false }
        case "number": if case .int = v { return true } else if case .double = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "sequence", "iterable":
            switch v {
            case .list, .string, .dict: return true
            default: return false
            }
        case "true": return v == .bool(true)
        case "false": return v == .bool(false)
        case "boolean": if case .bool = v { return true } else { return false }
        case "even", "odd":
            guard case .int(let i) = v else { throw JinjaError.render("`\(name)` of a \(v.typeName)") }
            return (i % 2 == 0) == (name == "even")
        case "equalto", "eq", "sameas": return v == (args.first ?? .undefined)
        default: throw JinjaError.render("the test `\(name)` is not supported by Tailor's template reader")
        }
    }

    static func method(_ name: String, of v: JinjaValue, _ args: [JinjaValue]) throws -> JinjaValue {
        if case .dict(let d) = v {
            switch name {
            case "items": return .list(d.map { .list([.string($0.0), $0.1]) })
            case "keys": return .list(d.map { .string($0.0) })
            case "values": return .list(d.map(\.1))
            case "get":
                let found = v[args.first?.text ?? ""]
                if case .undefined = found { return args.count > 1 ? args[1] : .none }
                return found
            default: break
            }
        }
        guard case .string(let s) = v else { throw JinjaError.render("the method `\(name)` of a \(v.typeName) is not supported") }
        let takes = ["strip": 1, "lstrip": 1, "rstrip": 1, "upper": 0, "lower": 0, "title": 0, "startswith": 1, "endswith": 1,
                     "replace": 2, "split": 1][name]
        guard let takes else { throw JinjaError.render("the string method `\(name)` is not supported by Tailor's template reader") }
        guard args.count <= takes, args.allSatisfy({ if case .string = $0 { true } else { false } }) else {
            throw JinjaError.render("the string method `\(name)` is used with arguments Tailor's template reader does not support")
        }
        let chars = args.first.map { CharacterSet(charactersIn: $0.text) } ?? .whitespacesAndNewlines
        switch name {
        case "strip": return .string(s.trimmingCharacters(in: chars))
        case "lstrip": return .string(String(s.unicodeScalars.drop { chars.contains($0) }))
        case "rstrip": return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed().drop { chars.contains($0) }.reversed())))
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(s.capitalized)
        case "startswith": return .bool(s.hasPrefix(args.first?.text ?? ""))
        case "endswith": return .bool(s.hasSuffix(args.first?.text ?? ""))
        case "replace": return .string(s.replacingOccurrences(of: args.first?.text ?? "", with: args.count > 1 ? args[1].text : ""))
        case "split":
            if let sep = args.first?.text { return .list(s.components(separatedBy: sep).map { .string($0) }) }
            return .list(s.split(whereSeparator: \.isWhitespace).map { .string(String($0)) })
        default: throw JinjaError.render("the string method `\(name)` is not supported by Tailor's template reader")
        }
    }
}

/// `tojson` as transformers renders chat templates with it: Python's `json.dumps` with
/// `ensure_ascii=False` (keys in order, non-ASCII text as it is, control characters escaped,
/// no HTML escaping), `, ` and `: ` between items (`,` before a newline when indented).
enum JinjaJSON {
    static func write(_ v: JinjaValue, indent: Int?, level: Int = 0) -> String {
        let pad = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        let close = indent.map { "\n" + String(repeating: " ", count: $0 * level) }
        switch v {
        case .undefined, .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double: return v.text  // Python writes floats the same in both
        case .string(let s): return string(s)
        case .list(let l):
            guard !l.isEmpty else { return "[]" }
            let items = l.map { write($0, indent: indent, level: level + 1) }
            return pad.map { p in "[" + items.map { p + $0 }.joined(separator: ",") + close! + "]" } ?? "[" + items.joined(separator: ", ") + "]"
        case .dict(let d):
            guard !d.isEmpty else { return "{}" }
            let items = d.map { string($0.0) + ": " + write($0.1, indent: indent, level: level + 1) }
            return pad.map { p in "{" + items.map { p + $0 }.joined(separator: ",") + close! + "}" } ?? "{" + items.joined(separator: ", ") + "}"
        case .namespace: return "null"
        }
    }

    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0..<0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
