import Foundation

/// Parses the statements and expressions of the Jinja subset chat templates use: `if` /
/// `elif` / `else`, `for` (with a filter and `else`), `set` (names and namespace attributes),
/// and expressions with literals, attributes, subscripts and slices, calls, filters, tests,
/// arithmetic, `~`, comparisons, `in`, `and` / `or` / `not` and `x if c else y`. Anything else
/// (macros, includes, blocks) is refused by name.
struct JinjaParser {
    private var segments: [JinjaLexer.Segment]
    private var position = 0

    init(_ source: String) throws { segments = try JinjaLexer.segments(source) }

    mutating func parse() throws -> [JinjaNode] {
        try body(until: []).0
    }

    /// How deeply blocks may nest (chat templates nest a few levels; a hostile file is refused
    /// before it can overflow the stack).
    static let maxDepth = 64
    private var depth = 0

    /// Nodes up to a block whose first word is in `ends` (returned, with the rest of its tokens).
    private mutating func body(until ends: Set<String>) throws -> ([JinjaNode], (word: String, tokens: JinjaTokens)?) {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw JinjaError.syntax("blocks nest more than \(Self.maxDepth) deep") }
        var nodes: [JinjaNode] = []
        while position < segments.count {
            let segment = segments[position]
            position += 1
            switch segment {
            case .text(let t): nodes.append(.text(t))
            case .output(let e): nodes.append(.output(try Self.expression(e)))
            case .block(let b):
                var tokens = try JinjaTokens(b)
                guard case .name(let word)? = tokens.peek else { throw JinjaError.syntax("an empty `{% %}`") }
                tokens.next()
                if ends.contains(word) { return (nodes, (word, tokens)) }
                switch word {
                case "if": nodes.append(try ifChain(&tokens))
                case "for": nodes.append(try forLoop(&tokens))
                case "set": nodes.append(try set(&tokens))
                case "elif", "else", "endif", "endfor": throw JinjaError.syntax("`{% \(word) %}` where no block it belongs to is open")
                default: throw JinjaError.syntax("`{% \(word) %}` is not supported by Tailor's template reader")
                }
            }
        }
        if !ends.isEmpty { throw JinjaError.syntax("a block is never closed (expected \(ends.sorted().map { "`{% \($0) %}`" }.joined(separator: " or ")))") }
        return (nodes, nil)
    }

    private mutating func ifChain(_ tokens: inout JinjaTokens) throws -> JinjaNode {
        var branches: [(JinjaExpr, [JinjaNode])] = []
        var condition = try tokens.expressionToEnd()
        while true {
            let (nodes, end) = try body(until: ["elif", "else", "endif"])
            branches.append((condition, nodes))
            guard var (word, rest) = end else { throw JinjaError.syntax("`{% if %}` without `{% endif %}`") }
            switch word {
            case "elif":
                condition = try rest.expressionToEnd()
            case "else":
                try rest.end()
                let (otherwise, close) = try body(until: ["endif"])
                guard var (_, closing) = close else { throw JinjaError.syntax("`{% else %}` without `{% endif %}`") }
                try closing.end()
                return .ifChain(branches, otherwise: otherwise)
            default:
                try rest.end()
                return .ifChain(branches, otherwise: [])
            }
        }
    }

    private mutating func forLoop(_ tokens: inout JinjaTokens) throws -> JinjaNode {
        var names = [try tokens.name()]
        while tokens.take(.punct(",")) {
            let name = try tokens.name()
            guard !names.contains(name) else { throw JinjaError.syntax("`{% for %}` names '\(name)' twice") }
            names.append(name)
        }
        guard tokens.take(.name("in")) else { throw JinjaError.syntax("`{% for %}` needs `in`") }
        let iterable = try tokens.expression(allowConditional: false)
        let filter = tokens.take(.name("if")) ? try tokens.expression() : nil
        try tokens.end()
        let (nodes, end) = try body(until: ["else", "endfor"])
        guard var (word, rest) = end else { throw JinjaError.syntax("`{% for %}` without `{% endfor %}`") }
        try rest.end()
        var otherwise: [JinjaNode] = []
        if word == "else" {
            let (more, close) = try body(until: ["endfor"])
            guard var (_, closing) = close else { throw JinjaError.syntax("`{% for %}` without `{% endfor %}`") }
            try closing.end()
            otherwise = more
        }
        return .forLoop(names: names, iterable: iterable, filter: filter, body: nodes, otherwise: otherwise)
    }

    private mutating func set(_ tokens: inout JinjaTokens) throws -> JinjaNode {
        let name = try tokens.name()
        let attribute = tokens.take(.punct(".")) ? try tokens.name() : nil
        guard tokens.take(.punct("=")) else { throw JinjaError.syntax("`{% set %}` needs `=` (block sets are not supported)") }
        return .set(name: name, attribute: attribute, value: try tokens.expressionToEnd())
    }

    static func expression(_ text: String) throws -> JinjaExpr {
        var tokens = try JinjaTokens(text)
        return try tokens.expressionToEnd()
    }
}

/// The tokens of one tag and the expression grammar over them, with Jinja's precedence:
/// `if`-`else` < `or` < `and` < `not` < comparisons and `in` < `+` `-` < `~` < `*` `/` `//` `%`
/// < `**` < unary `-` < filters and tests < attributes, subscripts and calls.
struct JinjaTokens {
    enum Token: Equatable {
        case name(String), string(String), int(Int), double(Double), punct(String)
    }

    private var tokens: [Token] = []
    private var index = 0

    init(_ text: String) throws {
        let c = Array(text)
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch.isWhitespace { i += 1; continue }
            if ch.isLetter || ch == "_" {
                var j = i
                while j < c.count, c[j].isLetter || c[j].isASCIIDigit || c[j] == "_" { j += 1 }
                tokens.append(.name(String(c[i..<j])))
                i = j
            } else if ch.isASCIIDigit {
                var j = i
                while j < c.count, c[j].isASCIIDigit { j += 1 }
                if j + 1 < c.count, c[j] == ".", c[j + 1].isASCIIDigit {
                    j += 1
                    while j < c.count, c[j].isASCIIDigit { j += 1 }
                    guard let d = Double(String(c[i..<j])), d.isFinite else { throw JinjaError.syntax("the number \(String(c[i..<j])) is out of range") }
                    tokens.append(.double(d))
                } else {
                    guard let n = Int(String(c[i..<j])) else { throw JinjaError.syntax("the number \(String(c[i..<j])) is out of range") }
                    tokens.append(.int(n))
                }
                i = j
            } else if ch == "'" || ch == "\"" {
                var j = i + 1, s = ""
                while j < c.count, c[j] != ch {
                    if c[j] == "\\", j + 1 < c.count {
                        j += 1
                        // Python's escapes; an unknown one keeps its backslash, as Python does.
                        switch c[j] {
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        case "r": s.append("\r")
                        case "0": s.append("\0")
                        case "\\", "'", "\"": s.append(c[j])
                        case "\n": break  // a line continuation
                        case "x", "u", "U":
                            let width = c[j] == "x" ? 2 : c[j] == "u" ? 4 : 8
                            let hex = j + width < c.count ? String(c[(j + 1)...(j + width)]) : ""
                            guard hex.count == width, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                                throw JinjaError.syntax("a bad \\\(c[j]) escape in a string")
                            }
                            s.unicodeScalars.append(scalar)
                            j += width
                        default: s.append("\\"); s.append(c[j])
                        }
                    } else {
                        s.append(c[j])
                    }
                    j += 1
                }
                guard j < c.count else { throw JinjaError.syntax("a string is never closed") }
                tokens.append(.string(s))
                i = j + 1
            } else {
                let two = i + 1 < c.count ? String(c[i...i + 1]) : ""
                if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                    tokens.append(.punct(two))
                    i += 2
                } else if "+-*/%~<>()[]{}.,:|=!".contains(ch) {
                    tokens.append(.punct(String(ch)))
                    i += 1
                } else {
                    throw JinjaError.syntax("unexpected character '\(ch)'")
                }
            }
        }
    }

    var peek: Token? { index < tokens.count ? tokens[index] : nil }

    mutating func next() { index += 1 }

    mutating func take(_ t: Token) -> Bool {
        guard peek == t else { return false }
        index += 1
        return true
    }

    mutating func expect(_ t: Token) throws {
        guard take(t) else { throw JinjaError.syntax("expected `\(Self.show(t))`\(peek.map { ", found `\(Self.show($0))`" } ?? " at the end")") }
    }

    mutating func name() throws -> String {
        guard case .name(let n)? = peek else { throw JinjaError.syntax("expected a name") }
        index += 1
        return n
    }

    mutating func end() throws {
        if let t = peek { throw JinjaError.syntax("unexpected `\(Self.show(t))`") }
    }

    mutating func expressionToEnd() throws -> JinjaExpr {
        let e = try expression()
        try end()
        return e
    }

    static func show(_ t: Token) -> String {
        switch t {
        case .name(let n): n
        case .string(let s): "'\(s)'"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .punct(let p): p
        }
    }

    // MARK: grammar

    /// How deeply expressions may nest (parentheses, lists, `not`, unary minus).
    static let maxDepth = 200
    private var depth = 0

    private mutating func enter() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw JinjaError.syntax("an expression nests more than \(Self.maxDepth) deep") }
    }

    mutating func expression(allowConditional: Bool = true) throws -> JinjaExpr {
        try enter()
        defer { depth -= 1 }
        let value = try or()
        guard allowConditional, take(.name("if")) else { return value }
        let condition = try or()
        return .conditional(value, condition: condition, otherwise: take(.name("else")) ? try expression() : nil)
    }

    mutating func or() throws -> JinjaExpr {
        var e = try and()
        while take(.name("or")) { e = .binary("or", e, try and()) }
        return e
    }

    mutating func and() throws -> JinjaExpr {
        var e = try not()
        while take(.name("and")) { e = .binary("and", e, try not()) }
        return e
    }

    mutating func not() throws -> JinjaExpr {
        guard take(.name("not")) else { return try compare() }
        try enter()
        defer { depth -= 1 }
        return .unary("not", try not())
    }

    mutating func compare() throws -> JinjaExpr {
        var e = try sum()
        while true {
            if case .punct(let p)? = peek, ["==", "!=", "<", ">", "<=", ">="].contains(p) {
                next()
                e = .binary(p, e, try sum())
            } else if take(.name("in")) {
                e = .binary("in", e, try sum())
            } else if peek == .name("not"), index + 1 < tokens.count, tokens[index + 1] == .name("in") {
                index += 2
                e = .unary("not", .binary("in", e, try sum()))
            } else {
                return e
            }
        }
    }

    mutating func sum() throws -> JinjaExpr {
        var e = try concat()
        while case .punct(let p)? = peek, p == "+" || p == "-" {
            next()
            e = .binary(p, e, try concat())
        }
        return e
    }

    mutating func concat() throws -> JinjaExpr {
        var e = try product()
        while take(.punct("~")) { e = .binary("~", e, try product()) }
        return e
    }

    mutating func product() throws -> JinjaExpr {
        var e = try power()
        while case .punct(let p)? = peek, ["*", "/", "//", "%"].contains(p) {
            next()
            e = .binary(p, e, try power())
        }
        return e
    }

    mutating func power() throws -> JinjaExpr {
        let e = try unary()
        return take(.punct("**")) ? .binary("**", e, try unary()) : e
    }

    mutating func unary() throws -> JinjaExpr {
        if peek == .punct("-") || peek == .punct("+") {
            let minus = take(.punct("-"))
            if !minus { next() }
            try enter()
            defer { depth -= 1 }
            return minus ? .unary("-", try unary()) : try unary()
        }
        var e = try postfix(try primary())
        while true {
            if take(.punct("|")) {
                let name = try self.name()
                let (args, kwargs) = peek == .punct("(") ? try arguments() : ([], [])
                e = try postfix(.filter(e, name: name, args: args, kwargs: kwargs))
            } else if take(.name("is")) {
                let negated = take(.name("not"))
                let name = try self.name()
                var args: [JinjaExpr] = []
                if peek == .punct("(") {
                    args = try arguments().0
                } else if let t = peek, case .name(let n) = t, !["and", "or", "else", "if", "is", "in", "not"].contains(n) {
                    args = [try primary()]
                } else if let t = peek, case .string = t {
                    args = [try primary()]
                } else if let t = peek, case .int = t {
                    args = [try primary()]
                }
                e = .test(e, name: name, args: args, negated: negated)
            } else {
                return e
            }
        }
    }

    mutating func primary() throws -> JinjaExpr {
        guard let t = peek else { throw JinjaError.syntax("an expression ends too early") }
        next()
        switch t {
        case .string(var s):
            while case .string(let more)? = peek {  // adjacent literals join, as in Python
                s += more
                next()
            }
            return .literal(.string(s))
        case .int(let i): return .literal(.int(i))
        case .double(let d): return .literal(.double(d))
        case .name(let n):
            switch n {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(n)
            }
        case .punct("("):
            let e = try expression()
            if take(.punct(",")) {  // a tuple: read as a list
                var items = [e]
                while peek != .punct(")") {
                    items.append(try expression())
                    if !take(.punct(",")) { break }
                }
                try expect(.punct(")"))
                return .list(items)
            }
            try expect(.punct(")"))
            return e
        case .punct("["):
            var items: [JinjaExpr] = []
            while peek != .punct("]") {
                items.append(try expression())
                if !take(.punct(",")) { break }
            }
            try expect(.punct("]"))
            return .list(items)
        case .punct("{"):
            var entries: [(JinjaExpr, JinjaExpr)] = []
            while peek != .punct("}") {
                let key = try expression()
                try expect(.punct(":"))
                entries.append((key, try expression()))
                if !take(.punct(",")) { break }
            }
            try expect(.punct("}"))
            return .dict(entries)
        default:
            throw JinjaError.syntax("unexpected `\(Self.show(t))`")
        }
    }

    mutating func postfix(_ base: JinjaExpr) throws -> JinjaExpr {
        var e = base
        while true {
            if take(.punct(".")) {
                e = .attribute(e, try name())
            } else if peek == .punct("(") {
                let (args, kwargs) = try arguments()
                e = .call(e, args: args, kwargs: kwargs)
            } else if take(.punct("[")) {
                var start: JinjaExpr?
                if peek != .punct(":") { start = try expression() }
                if take(.punct(":")) {
                    let stop = peek == .punct("]") || peek == .punct(":") ? nil : try expression()
                    let step = take(.punct(":")) && peek != .punct("]") ? try expression() : nil
                    try expect(.punct("]"))
                    e = .slice(e, start: start, stop: stop, step: step)
                } else {
                    try expect(.punct("]"))
                    guard let start else { throw JinjaError.syntax("an empty subscript") }
                    e = .item(e, start)
                }
            } else {
                return e
            }
        }
    }

    mutating func arguments() throws -> ([JinjaExpr], [(String, JinjaExpr)]) {
        try expect(.punct("("))
        var args: [JinjaExpr] = [], kwargs: [(String, JinjaExpr)] = []
        while peek != .punct(")") {
            if case .name(let n)? = peek, index + 1 < tokens.count, tokens[index + 1] == .punct("=") {
                index += 2
                kwargs.append((n, try expression()))
            } else {
                args.append(try expression())
            }
            if !take(.punct(",")) { break }
        }
        try expect(.punct(")"))
        return (args, kwargs)
    }
}

extension Character {
    /// 0–9 only (`isNumber` also takes ² and ½).
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
