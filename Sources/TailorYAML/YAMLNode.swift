import TailorDiagnostics

/// A YAML node with the place it came from. Nodes are values; an alias shares
/// its anchor's storage, so expanding aliases costs no memory until walked.
public struct YAMLNode: Sendable {
    public enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    public enum Kind: Sendable {
        case scalar(String, Style)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var kind: Kind
    public var location: SourceLocation
    /// An explicit tag such as `!!str`, when the user wrote one.
    public var tag: String?
    /// Number of nodes in this subtree with aliases expanded; bounds alias bombs.
    public var weight: Int

    public init(_ kind: Kind, at location: SourceLocation, tag: String? = nil) {
        self.kind = kind
        self.location = location
        self.tag = tag
        switch kind {
        case .scalar: weight = 1
        case .sequence(let items): weight = 1 + items.reduce(0) { $0 + $1.weight }
        case .mapping(let pairs): weight = 1 + pairs.reduce(0) { $0 + $1.key.weight + $1.value.weight }
        }
    }

    public static func scalar(_ text: String, style: Style = .plain, at location: SourceLocation) -> YAMLNode {
        YAMLNode(.scalar(text, style), at: location)
    }

    /// The text of a scalar, nil for collections.
    public var scalar: String? {
        if case .scalar(let s, _) = kind { return s }
        return nil
    }

    public var style: Style? {
        if case .scalar(_, let style) = kind { return style }
        return nil
    }

    public var pairs: [YAMLPair]? {
        if case .mapping(let p) = kind { return p }
        return nil
    }

    public var items: [YAMLNode]? {
        if case .sequence(let s) = kind { return s }
        return nil
    }

    /// A plain `~`, `null` or empty scalar: YAML's way of writing "nothing".
    public var isNull: Bool {
        guard case .scalar(let s, .plain) = kind, tag == nil || tag == "tag:yaml.org,2002:null" else { return false }
        return s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL"
    }

    /// The value under a scalar key of a mapping.
    public subscript(key: String) -> YAMLNode? {
        pairs?.first { $0.key.scalar == key }?.value
    }

    /// What the node is, in the words a diagnostic uses ("a mapping", "the string 'x'").
    public var describedKind: String {
        switch kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s, let style):
            if isNull { return "nothing (null)" }
            if style != .plain { return "the string '\(s)'" }
            return "'\(s)'"
        }
    }
}

/// One `key: value` entry of a mapping.
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}
