/// The shape of the spec language, declared once. The checker walks YAML against it,
/// and `tailor schema` renders it as the key reference in docs/spec.md, so the
/// documentation cannot drift from what is accepted.
public indirect enum SchemaType: Sendable {
    /// Any single-line or multi-line text.
    case string
    /// A name: letters, digits, `_` and `-`, starting with a letter.
    case identifier
    case int(min: Int?, max: Int?)
    case number(min: Double?, max: Double?, minExclusive: Bool)
    case bool
    /// One of fixed words.
    case choice([String])
    case list(SchemaType, minCount: Int)
    case object(ObjectSchema)
    /// A mapping whose keys the user names (datasets, split names, field maps).
    case dict(SchemaType, keyKind: String)
    /// The name of another entry of the spec.
    case reference(ReferenceKind)
    /// A file or folder, relative to the spec file.
    case path
    /// The first alternative whose YAML shape matches (scalar, list or mapping).
    case anyOf([SchemaType])

    /// How the type reads in messages and docs.
    public var summary: String {
        switch self {
        case .string: "string"
        case .identifier: "name"
        case let .int(min, max): "integer" + Self.range(min.map(Double.init), max.map(Double.init), false)
        case let .number(min, max, excl): "number" + Self.range(min, max, excl)
        case .bool: "true or false"
        case .choice(let words): "one of " + words.map { "'\($0)'" }.joined(separator: ", ")
        case .list(.reference(let k), _): "list of \(k.noun) names"
        case .list(let t, _): "list of \(t.summary)"
        case .object(let o): "mapping (\(o.name))"
        case .dict(let t, let keyKind): "mapping of \(keyKind) to \(t.summary)"
        case .reference(let k): "name of a \(k.noun)"
        case .path: "path"
        case .anyOf(let ts): ts.map(\.summary).joined(separator: " or ")
        }
    }

    static func range(_ lo: Double?, _ hi: Double?, _ excl: Bool) -> String {
        func f(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)" }
        switch (lo, hi) {
        case let (l?, h?): return " in \(excl ? "(" : "[")\(f(l)), \(f(h))]"
        case let (l?, nil): return excl ? " > \(f(l))" : " ≥ \(f(l))"
        case let (nil, h?): return " ≤ \(f(h))"
        default: return ""
        }
    }
}

/// What a reference names; each is a top-level section of the spec.
public enum ReferenceKind: String, Sendable, CaseIterable {
    case data, tokenizer, model, prompt, rag

    public var section: String {
        switch self {
        case .data: "data"
        case .tokenizer: "tokenizers"
        case .model: "models"
        case .prompt: "prompts"
        case .rag: "rag"
        }
    }
    public var noun: String {
        switch self {
        case .data: "dataset"
        case .tokenizer: "tokenizer"
        case .model: "model"
        case .prompt: "prompt"
        case .rag: "RAG pipeline"
        }
    }
}

/// A field of a mapping with its documentation.
public struct Field: Sendable {
    public var name: String
    public var type: SchemaType
    public var required: Bool
    /// Filled in when absent, so the resolved value (and its content key) is explicit.
    public var defaultValue: Value.Kind?
    public var doc: String

    public init(_ name: String, _ type: SchemaType, required: Bool = false, default value: Value.Kind? = nil, _ doc: String) {
        self.name = name
        self.type = type
        self.required = required
        self.defaultValue = value
        self.doc = doc
    }
}

/// A rule across several fields of one mapping.
public enum FieldRule: Sendable {
    /// Exactly one of these keys must be present (only checked when `when` is present, if given).
    case exactlyOne([String], when: String? = nil)
    /// At most one of these keys may be present.
    case atMostOne([String])
    /// At least one of these keys must be present.
    case atLeastOne([String])
    /// The first key is only meaningful next to one of the others.
    case needs(String, oneOf: [String])
    /// This key takes none of the mapping's other keys beside it.
    case alone(String)
}

/// A mapping with known keys.
public struct ObjectSchema: Sendable {
    public var name: String
    public var doc: String
    public var fields: [Field]
    public var rules: [FieldRule]

    public init(_ name: String, doc: String, fields: [Field], rules: [FieldRule] = []) {
        self.name = name
        self.doc = doc
        self.fields = fields
        self.rules = rules
    }

    public func field(_ name: String) -> Field? { fields.first { $0.name == name } }
}
