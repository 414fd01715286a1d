/// Splits a template into text and tags, applying the whitespace rules Hugging Face renders
/// chat templates with (`trim_blocks` and `lstrip_blocks` on, as in transformers): the first
/// newline after a block tag is dropped, spaces and tabs before a block tag at the start of a
/// line are dropped, and `{%-` / `-%}` (and `{{-`, `-}}`) strip all whitespace on their side.
enum JinjaLexer {
    enum Segment: Equatable {
        case text(String)
        /// `{{ … }}`: an expression to write.
        case output(String)
        /// `{% … %}`: a statement.
        case block(String)
    }

    static func segments(_ source: String) throws -> [Segment] {
        // Newlines are `\n` (Jinja normalises `\r\n` and `\r`), and one at the very end is not
        // part of the output (Jinja's keep_trailing_newline off).
        let normalised = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        let s = Array(normalised.hasSuffix("\n") ? String(normalised.dropLast()) : normalised)
        var out: [Segment] = []
        var text = ""
        var i = 0
        var trimNextNewline = false  // trim_blocks after a block or comment tag
        var stripLeading = false  // a `-` just before: strip all leading whitespace of the next text
        func flush() {
            if stripLeading { text = String(text.drop { $0.isWhitespace }) }
            if !text.isEmpty { out.append(.text(text)) }
            text = ""
            stripLeading = false
        }
        while i < s.count {
            guard s[i] == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" else {
                if trimNextNewline {
                    trimNextNewline = false
                    if s[i] == "\n" { i += 1; continue }
                }
                text.append(s[i])
                i += 1
                continue
            }
            trimNextNewline = false
            let kind = s[i + 1]
            let close: [Character] = kind == "{" ? ["}", "}"] : kind == "%" ? ["%", "}"] : ["#", "}"]
            var start = i + 2
            let minus = start < s.count && s[start] == "-"
            let plus = start < s.count && s[start] == "+"
            if minus || plus { start += 1 }
            // The tag's end, outside string literals.
            var j = start, quote: Character? = nil
            while j + 1 < s.count {
                if let q = quote {
                    if s[j] == "\\" { j += 2; continue }
                    if s[j] == q { quote = nil }
                } else if kind != "#", s[j] == "'" || s[j] == "\"" {
                    quote = s[j]
                } else if s[j] == close[0], s[j + 1] == "}" {
                    break
                }
                j += 1
            }
            guard j + 1 < s.count else { throw JinjaError.syntax("a `\(kind == "{" ? "{{" : kind == "%" ? "{%" : "{#")` is never closed") }
            let trailingMinus = j > start && s[j - 1] == "-"
            let trailingPlus = j > start && s[j - 1] == "+"  // `+%}`: keep the newline after the tag
            let inner = String(s[start..<(trailingMinus || trailingPlus ? j - 1 : j)])
            if minus {
                text = String(text.reversed().drop { $0.isWhitespace }.reversed())
            } else if kind != "{", !plus {
                // lstrip_blocks: spaces and tabs between the source line's start and the tag go.
                var k = i - 1
                while k >= 0, s[k] == " " || s[k] == "\t" { k -= 1 }
                if k < 0 || s[k] == "\n" { text.removeLast(Swift.min(text.count, i - 1 - k)) }
            }
            flush()
            switch kind {
            case "{": out.append(.output(inner))
            case "%": out.append(.block(inner))
            default: break  // a comment
            }
            i = j + 2
            if trailingMinus { stripLeading = true } else if kind != "{", !trailingPlus { trimNextNewline = true }
        }
        flush()
        return out
    }
}
