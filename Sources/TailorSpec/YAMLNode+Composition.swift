import TailorDiagnostics
import TailorYAML

/// Tree operations behind `extends:`, `--set` and `sweep:`. They work on YAML
/// before checking, so the checker sees one ordinary spec and every node keeps
/// the file and line it came from.
extension YAMLNode {
    /// `base` with `self` laid over it: mappings merge key by key (self wins),
    /// anything else is replaced whole.
    func merged(over base: YAMLNode) -> YAMLNode {
        guard let mine = pairs, let theirs = base.pairs else { return self }
        var result = theirs
        for pair in mine {
            if let i = result.firstIndex(where: { $0.key.scalar == pair.key.scalar && pair.key.scalar != nil }) {
                result[i] = YAMLPair(key: pair.key, value: pair.value.merged(over: result[i].value))
            } else {
                result.append(pair)
            }
        }
        var node = YAMLNode(.mapping(result), at: location)
        node.tag = tag
        return node
    }

    /// The mapping without `key`.
    func removing(key: String) -> YAMLNode {
        guard let p = pairs else { return self }
        return YAMLNode(.mapping(p.filter { $0.key.scalar != key }), at: location)
    }

    /// Sets the value at a dotted path, creating mappings on the way. List items are
    /// addressed by index. `keyLocation` is where the path was written (for new keys).
    func setting(_ path: ArraySlice<String>, to value: YAMLNode, keyLocation: SourceLocation, fullPath: String)
        -> Result<YAMLNode, Diagnostic>
    {
        guard let head = path.first else { return .success(value) }
        let rest = path.dropFirst()
        switch kind {
        case .mapping(var p):
            let child: YAMLNode
            let index = p.firstIndex { $0.key.scalar == head }
            if let index { child = p[index].value } else { child = YAMLNode(.mapping([]), at: keyLocation) }
            let base = child.isNull && !rest.isEmpty ? YAMLNode(.mapping([]), at: keyLocation) : child
            switch base.setting(rest, to: value, keyLocation: keyLocation, fullPath: fullPath) {
            case .failure(let d): return .failure(d)
            case .success(let newChild):
                if let index {
                    p[index].value = newChild
                } else {
                    p.append(YAMLPair(key: .scalar(head, at: keyLocation), value: newChild))
                }
                var node = YAMLNode(.mapping(p), at: location)
                node.tag = tag
                return .success(node)
            }
        case .sequence(var items):
            guard let i = Int(head), i >= 0, i < items.count else {
                return .failure(Diagnostic(.error, .badListIndex(head, items.count), at: keyLocation))
            }
            switch items[i].setting(rest, to: value, keyLocation: keyLocation, fullPath: fullPath) {
            case .failure(let d): return .failure(d)
            case .success(let n):
                items[i] = n
                return .success(YAMLNode(.sequence(items), at: location))
            }
        case .scalar:
            return .failure(Diagnostic(.error, .setThroughScalar(fullPath, head), at: keyLocation))
        }
    }

    /// Whether any scalar value outside `vars:` holds a `$`; most specs have none,
    /// and then interpolation has nothing to do.
    var usesVariables: Bool {
        switch kind {
        case .scalar(let s, _): return s.utf8.contains(UInt8(ascii: "$"))
        case .sequence(let items): return items.contains { $0.usesVariables }
        case .mapping(let p): return p.contains { $0.key.scalar != "vars" && $0.value.usesVariables }
        }
    }

    /// Replaces `${name}` in every scalar value (not keys) by the variable's text.
    /// `$${` writes a literal `${`. A scalar that is exactly one variable takes the
    /// variable's style, so `lr: ${lr}` with `lr: 1e-3` stays a number.
    func interpolating(_ vars: [String: YAMLNode], _ diagnostics: inout DiagnosticBag) -> YAMLNode {
        switch kind {
        case .scalar(let s, let style):
            guard s.contains("$") else { return self }
            var out = ""
            var resultStyle = style
            var rest = Substring(s)
            while let dollar = rest.firstIndex(of: "$") {
                out += rest[..<dollar]
                let after = rest[rest.index(after: dollar)...]
                if after.hasPrefix("${") {
                    out += "${"
                    rest = after.dropFirst(2)
                } else if after.hasPrefix("{") {
                    guard let close = after.firstIndex(of: "}") else {
                        diagnostics.error(.unterminatedVariable, at: location)
                        return self
                    }
                    let name = String(after[after.index(after: after.startIndex)..<close])
                    if let v = vars[name], let text = v.scalar {
                        if s == "${\(name)}" { resultStyle = v.style ?? style }
                        out += text
                    } else {
                        var notes: [Note] = []
                        if let hint = Suggestions.didYouMean(name, in: vars.keys.sorted()) { notes.append(Note(hint)) }
                        notes.append(Note("define it under 'vars:' or with --set vars.\(name)=VALUE"))
                        diagnostics.error(.unknownVariable(name), at: location, notes: notes)
                    }
                    rest = after[after.index(after: close)...]
                } else {
                    out += "$"
                    rest = after
                }
            }
            out += rest
            var node = YAMLNode(.scalar(out, resultStyle), at: location)
            node.tag = tag
            return node
        case .sequence(let items):
            return YAMLNode(.sequence(items.map { $0.interpolating(vars, &diagnostics) }), at: location)
        case .mapping(let p):
            var node = YAMLNode(
                .mapping(p.map { YAMLPair(key: $0.key, value: $0.value.interpolating(vars, &diagnostics)) }), at: location)
            node.tag = tag
            return node
        }
    }
}
