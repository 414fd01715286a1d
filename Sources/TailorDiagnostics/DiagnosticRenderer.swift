import Foundation

/// Turns diagnostics into text for people (with the source line and a caret)
/// or JSON for tools. The first line of each text diagnostic is exactly
/// `file:line:col: error: message`, the form editors parse.
public struct DiagnosticRenderer: Sendable {
    public enum Format: String, Sendable, CaseIterable { case text, json }

    public var sources: SourceManager
    public var colour: Bool

    public init(sources: SourceManager, colour: Bool = false) {
        self.sources = sources
        self.colour = colour
    }

    public func render(_ diagnostics: [Diagnostic], format: Format) -> String {
        switch format {
        case .text: renderText(diagnostics)
        case .json: renderJSON(diagnostics)
        }
    }

    // MARK: text

    public func renderText(_ diagnostics: [Diagnostic]) -> String {
        var out = ""
        for d in diagnostics {
            out += header(d.location, d.severity.rawValue, d.message)
            if let loc = d.location { out += excerpt(loc) }
            for note in d.notes {
                out += header(note.location, "note", note.message)
                if let loc = note.location { out += excerpt(loc) }
            }
        }
        let errors = diagnostics.count(where: { $0.severity == .error })
        let warnings = diagnostics.count(where: { $0.severity == .warning })
        if errors + warnings > 0 {
            var parts: [String] = []
            if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
            if warnings > 0 { parts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
            out += parts.joined(separator: ", ") + "\n"
        }
        return out
    }

    private func header(_ loc: SourceLocation?, _ severity: String, _ message: String) -> String {
        let place = loc.map { "\($0.description): " } ?? (severity == "note" ? "" : "tailor: ")
        let label: String
        if colour {
            let code = severity == "error" ? "31" : severity == "warning" ? "33" : "36"
            label = "\u{1B}[1;\(code)m\(severity):\u{1B}[0m"
            return "\u{1B}[1m\(place)\u{1B}[0m\(label) \u{1B}[1m\(message)\u{1B}[0m\n"
        }
        label = "\(severity):"
        return "\(place)\(label) \(message)\n"
    }

    /// The source line with a gutter, then a caret line under the span. Tabs in the
    /// prefix are copied so the caret lines up whatever the terminal's tab width.
    private func excerpt(_ loc: SourceLocation) -> String {
        guard let text = sources.line(loc.line, of: loc.file) else { return "" }
        let number = String(loc.line)
        let pad = String(repeating: " ", count: number.count)
        let chars = Array(text)
        let prefix = chars.prefix(max(0, loc.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
        let available = max(1, chars.count - (loc.column - 1))
        let width = min(loc.length, available)
        var marker = "^" + String(repeating: "~", count: max(0, width - 1))
        if colour { marker = "\u{1B}[1;32m\(marker)\u{1B}[0m" }
        return "\(number) | \(text)\n\(pad) | \(prefix)\(marker)\n"
    }

    // MARK: JSON

    public func renderJSON(_ diagnostics: [Diagnostic]) -> String {
        func loc(_ l: SourceLocation?) -> Any {
            guard let l else { return NSNull() }
            return ["file": l.file, "line": l.line, "column": l.column, "length": l.length] as [String: Any]
        }
        let array: [[String: Any]] = diagnostics.map { d in
            [
                "severity": d.severity.rawValue,
                "message": d.message,
                "location": loc(d.location),
                "notes": d.notes.map { ["message": $0.message, "location": loc($0.location)] as [String: Any] },
            ]
        }
        let data = (try? JSONSerialization.data(
            withJSONObject: ["diagnostics": array], options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
