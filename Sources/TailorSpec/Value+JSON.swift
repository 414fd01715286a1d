/// Reading a `Value` back from JSON, as `canonicalJSON` writes it: a job description carries
/// its node's parameters this way. Integers are numbers without a fraction or exponent and
/// numbers always have one (`canonicalNumber` keeps `1.0`), so a value reads back as the same
/// kind and hashes to the same key. Object keys keep the order they are written in.
extension Value {
    public struct JSONError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(json text: String) throws {
        var reader = JSONReader(bytes: Array(text.utf8))
        self = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.at == reader.bytes.count else { throw reader.error("text after the value") }
    }
}

private struct JSONReader {
    let bytes: [UInt8]
    var at = 0

    func error(_ what: String) -> Value.JSONError { Value.JSONError(description: "\(what) at byte \(at + 1)") }

    mutating func skipSpace() {
        while at < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[at]) { at += 1 }
    }

    mutating func expect(_ word: String) throws {
        let w = Array(word.utf8)
        guard at + w.count <= bytes.count, Array(bytes[at..<at + w.count]) == w else { throw error("expected '\(word)'") }
        at += w.count
    }

    mutating func value(depth: Int) throws -> Value {
        guard depth < 64 else { throw error("nesting deeper than 64") }
        skipSpace()
        guard at < bytes.count else { throw error("unexpected end") }
        switch bytes[at] {
        case UInt8(ascii: "{"):
            at += 1
            var entries: [(String, Value)] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return Value(.object([]), at: nil) }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(":")
                entries.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard at < bytes.count else { throw error("unexpected end") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                try expect("}")
                return Value(.object(entries), at: nil)
            }
        case UInt8(ascii: "["):
            at += 1
            var items: [Value] = []
            skipSpace()
            if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return Value(.list([]), at: nil) }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard at < bytes.count else { throw error("unexpected end") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                try expect("]")
                return Value(.list(items), at: nil)
            }
        case UInt8(ascii: "\""):
            return Value(.string(try string()), at: nil)
        case UInt8(ascii: "t"):
            try expect("true")
            return Value(.bool(true), at: nil)
        case UInt8(ascii: "f"):
            try expect("false")
            return Value(.bool(false), at: nil)
        default:
            return try number()
        }
    }

    mutating func number() throws -> Value {
        let start = at
        var fraction = false
        while at < bytes.count, let c = Optional(bytes[at]), (c >= 0x30 && c <= 0x39) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(c) {
            if [0x2E, 0x65, 0x45].contains(c) { fraction = true }
            at += 1
        }
        let text = String(decoding: bytes[start..<at], as: UTF8.self)
        if !fraction, let i = Int(text) { return Value(.int(i), at: nil) }
        if fraction, let d = Double(text), d.isFinite { return Value(.number(d), at: nil) }
        at = start
        throw error("expected a value")
    }

    mutating func string() throws -> String {
        try expect("\"")
        var out: [UInt8] = []
        while at < bytes.count {
            let c = bytes[at]
            at += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { throw error("unexpected end") }
                let e = bytes[at]
                at += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard at + 4 <= bytes.count, var code = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16) else {
                        throw error("bad \\u escape")
                    }
                    at += 4
                    // A surrogate pair: a high half then `\uDC00`-`\uDFFF`.
                    if (0xD800..<0xDC00).contains(code), at + 6 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u"),
                       let low = UInt32(String(decoding: bytes[at + 2..<at + 6], as: UTF8.self), radix: 16), (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        at += 6
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("bad \\u escape") }
                    out += Array(String(Character(scalar)).utf8)
                default: out.append(e)  // \" \\ \/
                }
            default:
                out.append(c)
            }
        }
        throw error("unterminated string")
    }
}
