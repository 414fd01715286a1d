import CLibYAML
import TailorDiagnostics

/// Reads one YAML document through the system libyaml's event API and builds
/// `YAMLNode`s that remember their file, line and column.
///
/// We drive the event API ourselves (not libyaml's document loader) so that
/// aliases can be bounded, duplicate keys caught and merge keys applied while the
/// tree is built, each with a located error.
public enum YAMLLoader {
    /// Parses `bytes` as the contents of `file`. Returns the root node, or nil with
    /// errors in `diagnostics`.
    public static func load(
        bytes: [UInt8], file: String, limits: YAMLLimits = .default, diagnostics: inout DiagnosticBag
    ) -> YAMLNode? {
        let start = SourceLocation(file: file, line: 1, column: 1)
        if bytes.count > limits.maxBytes {
            diagnostics.error(.fileTooLarge(bytes.count, limit: limits.maxBytes), at: start)
            return nil
        }
        if let bad = firstInvalidUTF8(bytes) {
            diagnostics.error(.notUTF8(bytes[bad]), at: location(ofByte: bad, in: bytes, file: file))
            return nil
        }
        var builder = TreeBuilder(file: file, limits: limits, bytes: bytes)
        return builder.run(&diagnostics)
    }

    /// Offset of the first byte that is not part of a well-formed UTF-8 sequence.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let s): offset += s.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func location(ofByte offset: Int, in bytes: [UInt8], file: String) -> SourceLocation {
        var line = 1, column = 1
        for b in bytes[..<offset] {
            if b == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}

/// The stack machine that turns libyaml events into nodes.
private struct TreeBuilder {
    /// An open sequence or mapping. Its children are appended in place (`stack[last]`), so
    /// the array stays uniquely referenced: pattern-matching them out of an enum and back
    /// copied the whole array per child, quadratic in a mapping's size.
    struct Frame {
        var isMapping: Bool
        var children: [YAMLNode]
        var at: SourceLocation
        var anchor: String?
        var tag: String?
    }

    let file: String
    let limits: YAMLLimits
    let bytes: [UInt8]
    var stack: [Frame] = []
    var anchors: [String: YAMLNode] = [:]
    var expanded = 0
    var root: YAMLNode?
    var documents = 0

    init(file: String, limits: YAMLLimits, bytes: [UInt8]) {
        self.file = file
        self.limits = limits
        self.bytes = bytes
    }

    mutating func run(_ diagnostics: inout DiagnosticBag) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else { return nil }
        defer { yaml_parser_delete(&parser) }
        // libyaml keeps the input pointer, so the whole loop runs inside the buffer scope.
        let ok = bytes.withUnsafeBufferPointer { buffer -> Bool in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    reportSyntaxError(parser, &diagnostics)
                    return false
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return true }
                if !handle(event, &diagnostics) { return false }
            }
        }
        guard ok else { return nil }
        if root == nil {
            diagnostics.error(.emptyDocument, at: SourceLocation(file: file, line: 1, column: 1))
        }
        return root
    }

    func mark(_ m: yaml_mark_t, end: yaml_mark_t? = nil) -> SourceLocation {
        var length = 1
        if let end, end.line == m.line, end.column > m.column { length = Int(end.column - m.column) }
        return SourceLocation(file: file, line: Int(m.line) + 1, column: Int(m.column) + 1, length: length)
    }

    func string(_ p: UnsafeMutablePointer<yaml_char_t>?, _ count: Int? = nil) -> String? {
        guard let p else { return nil }
        let n = count ?? strlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    mutating func handle(_ event: yaml_event_t, _ diagnostics: inout DiagnosticBag) -> Bool {
        let at = mark(event.start_mark, end: event.end_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                diagnostics.error(.secondDocument, at: at)
                return false
            }
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let style: YAMLNode.Style
            switch s.style {
            case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
            case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
            case YAML_LITERAL_SCALAR_STYLE: style = .literal
            case YAML_FOLDED_SCALAR_STYLE: style = .folded
            default: style = .plain
            }
            var node = YAMLNode(.scalar(string(s.value, s.length) ?? "", style), at: at)
            node.tag = string(s.tag)
            return finish(node, anchor: string(s.anchor), &diagnostics)
        case YAML_ALIAS_EVENT:
            let name = string(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                diagnostics.error(.unknownAnchor(name), at: at)
                return false
            }
            return finish(target, anchor: nil, counted: false, &diagnostics)
        case YAML_SEQUENCE_START_EVENT:
            let s = event.data.sequence_start
            return push(Frame(isMapping: false, children: [], at: at, anchor: string(s.anchor), tag: string(s.tag)), at, &diagnostics)
        case YAML_MAPPING_START_EVENT:
            let s = event.data.mapping_start
            return push(Frame(isMapping: true, children: [], at: at, anchor: string(s.anchor), tag: string(s.tag)), at, &diagnostics)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let frame = stack.popLast() else { return true }
            var node: YAMLNode
            if frame.isMapping {
                guard let pairs = buildMapping(frame.children, &diagnostics) else { return false }
                node = YAMLNode(.mapping(pairs), at: frame.at)
            } else {
                node = YAMLNode(.sequence(frame.children), at: frame.at)
            }
            node.tag = frame.tag
            return finish(node, anchor: frame.anchor, &diagnostics)
        default:
            break
        }
        return true
    }

    mutating func push(_ frame: Frame, _ at: SourceLocation, _ diagnostics: inout DiagnosticBag) -> Bool {
        if stack.count >= limits.maxDepth {
            diagnostics.error(.tooDeep(limits.maxDepth), at: at)
            return false
        }
        stack.append(frame)
        return true
    }

    /// Attaches a finished node to its parent, registering its anchor and counting
    /// the expanded size (an alias adds its target's whole weight).
    mutating func finish(
        _ node: YAMLNode, anchor: String?, counted: Bool = true, _ diagnostics: inout DiagnosticBag
    ) -> Bool {
        expanded += counted ? 1 : node.weight
        if expanded > limits.maxExpandedNodes {
            diagnostics.error(.aliasBomb(limits.maxExpandedNodes), at: node.location)
            return false
        }
        if let anchor { anchors[anchor] = node }
        guard !stack.isEmpty else {
            root = node
            return true
        }
        stack[stack.count - 1].children.append(node)
        return true
    }

    /// Pairs up keys and values, rejects duplicate keys, and applies `<<` merge keys:
    /// keys written in the mapping win over merged ones, and earlier merged mappings
    /// win over later ones.
    func buildMapping(_ entries: [YAMLNode], _ diagnostics: inout DiagnosticBag) -> [YAMLPair]? {
        var own: [YAMLPair] = []
        var merged: [YAMLPair] = []
        var seen: [String: SourceLocation] = [:]
        var ok = true
        var i = 0
        while i + 1 < entries.count {
            let key = entries[i], value = entries[i + 1]
            i += 2
            if key.scalar == "<<", key.style == .plain, key.tag == nil {
                let sources: [YAMLNode] = value.items ?? [value]
                for source in sources {
                    guard let pairs = source.pairs else {
                        diagnostics.error(.badMerge, at: source.location)
                        ok = false
                        continue
                    }
                    merged.append(contentsOf: pairs)
                }
                continue
            }
            if let text = key.scalar {
                if let first = seen[text] {
                    diagnostics.error(
                        .duplicateKey(text), at: key.location,
                        notes: [Note("'\(text)' was first set here; YAML keeps only one of them", at: first)])
                    ok = false
                    continue
                }
                seen[text] = key.location
            }
            own.append(YAMLPair(key: key, value: value))
        }
        for pair in merged {
            guard let text = pair.key.scalar else { continue }
            if seen[text] == nil {
                seen[text] = pair.key.location
                own.append(pair)
            }
        }
        return ok ? own : nil
    }

    func reportSyntaxError(_ parser: yaml_parser_t, _ diagnostics: inout DiagnosticBag) {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown error"
        let at = mark(parser.problem_mark)
        var notes: [Note] = []
        if let context = parser.context.map({ String(cString: $0) }) {
            notes.append(Note(context, at: mark(parser.context_mark)))
        }
        // A tab where indentation belongs is the most common cause of libyaml's
        // "cannot start any token": say so plainly.
        if let line = lineText(at.line), at.column - 1 < line.count,
            line[line.index(line.startIndex, offsetBy: at.column - 1)] == "\t"
        {
            diagnostics.error(.tabIndent, at: at, notes: [Note("replace the tab with spaces")])
            return
        }
        diagnostics.error(.syntax(problem), at: at, notes: notes)
    }

    func lineText(_ line: Int) -> Substring? {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return line >= 1 && line <= lines.count ? lines[line - 1] : nil
    }
}
