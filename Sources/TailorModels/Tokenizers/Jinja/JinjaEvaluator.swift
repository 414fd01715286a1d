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
            case let (.list(l), .int(i)):
                let j = i < 0 ? l.count + i : i
                guard l.indices.contains(j) else { throw JinjaError.render("list index \(i) out of range (the list has \(l.count) items)") }
                return l[j]
            case let (.string(s), .int(i)):
                let c = Array(s), j = i < 0 ? c.count + i : i
                guard c.indices.contains(j) else { throw JinjaError.render("string index \(i) out of range") }
                return .string(String(c[j]))
            case (.namespace(let id), .string(let key)): return namespaces[id][key] ?? .undefined
            default: return v[k.text]
            }
        case .slice(let base, let start, let stop, let step):
            let v = try eval(base)
            let (a, b, s) = (try start.map { try eval($0) }, try stop.map { try eval($0) }, try step.map { try eval($0) })
            func cut<T>(_ items: [T]) throws -> [T] {
                let n = items.count, st = Int(s?.number ?? 1)
                guard st != 0 else { throw JinjaError.render("a slice step of 0") }
                func clamp(_ x: JinjaValue?, _ dflt: Int) -> Int {
                    guard let x = x?.number.map(Int.init) else { return dflt }
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
            if case .int(let i) = v { return .int(-i) }
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
            let n = args.map { Int($0.number ?? 0) }
            let (start, stop, step) = n.count == 1 ? (0, n[0], 1) : (n[0], n[1], n.count > 2 ? n[2] : 1)
            guard step != 0 else { throw JinjaError.render("range() step of 0") }
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
            switch op {
            case "+": return .int(x &+ y)
            case "-": return .int(x &- y)
            case "*": return .int(x &* y)
            case "**" where y >= 0:
                var p = 1
                for _ in 0..<Swift.min(y, 64) { p = p &* x }
                return .int(p)
            case "//", "%":
                guard y != 0 else { throw JinjaError.render("division by zero") }
                let q = Int((Double(x) / Double(y)).rounded(.down))
                return .int(op == "//" ? q : x - q * y)
            default: break
            }
        }
        if op == "*", case .string(let s) = a, case .int(let n) = b { return .string(String(repeating: s, count: Swift.max(0, n))) }
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

    static func filter(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kwargs: [(String, JinjaValue)]) throws -> JinjaValue {
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
            let fallback = args.first ?? .string("")
            let boolean = args.count > 1 ? args[1].truthy : false
            if case .undefined = v { return fallback }
            return boolean && !v.truthy ? fallback : v
        case "first": return try iterate(v).first ?? .undefined
        case "last": return try iterate(v).last ?? .undefined
        case "join": return .string(try iterate(v).map(\.text).joined(separator: args.first?.text ?? ""))
        case "list": return .list(try iterate(v))
        case "reverse":
            if case .string(let s) = v { return .string(String(s.reversed())) }
            return .list(try iterate(v).reversed())
        case "string": return .string(v.text)
        case "int": return .int(Int(v.number ?? Double(v.text.trimmingCharacters(in: .whitespaces)) ?? 0))
        case "float": return .double(v.number ?? Double(v.text.trimmingCharacters(in: .whitespaces)) ?? 0)
        case "replace": return .string(v.text.replacingOccurrences(of: args.first?.text ?? "", with: args.count > 1 ? args[1].text : ""))
        case "tojson":
            let indent = kwargs.first { $0.0 == "indent" }?.1.number.map(Int.init) ?? args.first?.number.map(Int.init)
            return .string(JinjaJSON.write(v, indent: indent))
        case "items":
            guard case .dict(let d) = v else { throw JinjaError.render("`items` of a \(v.typeName)") }
            return .list(d.map { .list([.string($0.0), $0.1]) })
        default:
            throw JinjaError.render("the filter `\(name)` is not supported by Tailor's template reader")
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

/// `tojson` as Python's `json.dumps` writes it (Jinja's filter: keys in order, non-ASCII kept
/// as `\uXXXX`, `<`, `>`, `&` and `'` escaped for HTML).
enum JinjaJSON {
    static func write(_ v: JinjaValue, indent: Int?, level: Int = 0) -> String {
        let pad = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        let close = indent.map { "\n" + String(repeating: " ", count: $0 * level) }
        switch v {
        case .undefined, .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : String(d)
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
        for u in s.utf16 {
            switch u {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x3C, 0x3E, 0x26, 0x27: out += String(format: "\\u%04x", u)
            case 0x20..<0x7F: out += String(UnicodeScalar(u)!)
            default: out += String(format: "\\u%04x", u)
            }
        }
        return out + "\""
    }
}
