import TailorDiagnostics
import TailorYAML

/// Checks YAML against the schema and produces typed `Value`s with defaults filled.
/// It keeps going after an error so that one pass reports every problem: a list or
/// mapping with bad entries still yields the entries that checked, so later passes
/// see as much of the spec as possible (errors are in `diagnostics`).
public struct SchemaChecker {
    public var diagnostics = DiagnosticBag()

    /// Checked entries of spec sections to take as they are (`section`, `name`) → value,
    /// for sweep variants that share them; nil checks everything.
    public var reuse: ((String, String) -> Value?)?

    public init() {}

    /// Checks `node` against `type`. `key` names the entry in messages ("'lr'").
    public mutating func check(_ node: YAMLNode, as type: SchemaType, key: String) -> Value? {
        switch type {
        case .string, .path, .reference:
            return text(node, key: key, expected: type.summary)
        case .identifier:
            guard let v = text(node, key: key, expected: "a name"), let s = v.string else { return nil }
            if !Self.isIdentifier(s) {
                diagnostics.error(.badName(s), at: node.location)
                return nil
            }
            return v
        case let .int(min, max):
            return integer(node, min: min, max: max)
        case let .number(min, max, exclusive):
            return number(node, min: min, max: max, exclusive: exclusive)
        case .bool:
            return boolean(node)
        case .choice(let words):
            guard let v = text(node, key: key, expected: type.summary), let s = v.string else { return nil }
            if !words.contains(s) {
                var notes = [Note("expected \(type.summary)")]
                if let hint = Suggestions.didYouMean(s, in: words) { notes.insert(Note(hint), at: 0) }
                diagnostics.error(.notAChoice(s, key: key), at: node.location, notes: notes)
                return nil
            }
            return v
        case let .list(element, minCount):
            guard let items = node.items else {
                return mismatch(node, type)
            }
            if items.count < minCount {
                diagnostics.error(.tooFewItems(items.count, min: minCount), at: node.location)
            }
            var out: [Value] = []
            for item in items {
                if let v = check(item, as: element, key: key) { out.append(v) }
            }
            return Value(.list(out), at: node.location)
        case .object(let schema):
            return object(node, schema)
        case let .dict(element, keyKind):
            return dictionary(node, element, keyKind: keyKind)
        case .anyOf(let alternatives):
            return anyOf(node, alternatives, key: key)
        }
    }

    /// Names that users of other fine-tuning tools type, mapped to ours.
    static let aliases: [String: String] = [
        "learning_rate": "lr", "batch_size": "batch", "micro_batch_size": "batch", "max_steps": "steps", "num_train_epochs": "epochs", "num_epochs": "epochs",
        "lora_r": "rank", "r": "rank", "lora_alpha": "alpha", "lora_dropout": "dropout",
        "target_modules": "targets", "lora_target_modules": "targets", "gradient_accumulation_steps": "accumulate",
        "warmup_steps": "warmup", "lr_scheduler": "schedule", "lr_scheduler_type": "schedule",
        "max_grad_norm": "grad_clip", "sequence_len": "sequence", "max_seq_length": "sequence",
        "sample_packing": "packing", "base_model": "load", "dataset": "data", "datasets": "data",
        "n_layer": "layers", "n_embd": "width", "n_head": "heads", "hidden_size": "width",
        "num_hidden_layers": "layers", "num_attention_heads": "heads", "vocab_size": "vocab",
    ]

    public static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }

    // MARK: scalars

    private mutating func mismatch(_ node: YAMLNode, _ type: SchemaType, notes: [Note] = []) -> Value? {
        diagnostics.error(.expected(type.summary, found: node.describedKind), at: node.location, notes: notes)
        return nil
    }

    private mutating func text(_ node: YAMLNode, key: String, expected: String) -> Value? {
        guard let s = node.scalar, !node.isNull else {
            diagnostics.error(.expected(expected, found: node.describedKind), at: node.location)
            return nil
        }
        return Value(.string(s), at: node.location)
    }

    /// Plain scalars only: a quoted `"3"` is a string the user chose to quote.
    private mutating func numericText(_ node: YAMLNode, _ type: SchemaType) -> String? {
        guard let s = node.scalar, !node.isNull else {
            _ = mismatch(node, type)
            return nil
        }
        if node.style != .plain || node.tag == "tag:yaml.org,2002:str" {
            _ = mismatch(node, type, notes: [Note("remove the quotes to write a number")])
            return nil
        }
        return s.replacingOccurrences(of: "_", with: "")
    }

    private static func parseDouble(_ s: String) -> Double? {
        guard !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }),
            let d = Double(s), d.isFinite
        else { return nil }
        return d
    }

    private mutating func integer(_ node: YAMLNode, min: Int?, max: Int?) -> Value? {
        let type = SchemaType.int(min: min, max: max)
        guard let s = numericText(node, type) else { return nil }
        var value = Int(s)
        if value == nil, let d = Self.parseDouble(s), d == d.rounded(), abs(d) < 9e15 { value = Int(d) }
        guard let i = value else { return mismatch(node, type) }
        if let min, i < min { return outOfRange(node, s, type) }
        if let max, i > max { return outOfRange(node, s, type) }
        return Value(.int(i), at: node.location)
    }

    private mutating func number(_ node: YAMLNode, min: Double?, max: Double?, exclusive: Bool) -> Value? {
        let type = SchemaType.number(min: min, max: max, minExclusive: exclusive)
        guard let s = numericText(node, type) else { return nil }
        guard let d = Self.parseDouble(s) else { return mismatch(node, type) }
        if let min, exclusive ? d <= min : d < min { return outOfRange(node, s, type) }
        if let max, d > max { return outOfRange(node, s, type) }
        return Value(.number(d), at: node.location)
    }

    private mutating func outOfRange(_ node: YAMLNode, _ text: String, _ type: SchemaType) -> Value? {
        diagnostics.error(.outOfRange(text, type.summary), at: node.location)
        return nil
    }

    private mutating func boolean(_ node: YAMLNode) -> Value? {
        guard let s = node.scalar, node.style == .plain, !node.isNull else { return mismatch(node, .bool) }
        switch s {
        case "true", "True", "TRUE": return Value(.bool(true), at: node.location)
        case "false", "False", "FALSE": return Value(.bool(false), at: node.location)
        case "yes", "Yes", "on", "On", "y", "Y":
            return mismatch(node, .bool, notes: [Note("write 'true'; YAML 1.1 words such as '\(s)' are not booleans here")])
        case "no", "No", "off", "Off", "n", "N":
            return mismatch(node, .bool, notes: [Note("write 'false'; YAML 1.1 words such as '\(s)' are not booleans here")])
        default: return mismatch(node, .bool)
        }
    }

    // MARK: collections

    private mutating func keyText(_ key: YAMLNode) -> String? {
        guard let k = key.scalar else {
            diagnostics.error(.keyNotScalar, at: key.location)
            return nil
        }
        return k
    }

    private mutating func object(_ node: YAMLNode, _ schema: ObjectSchema) -> Value? {
        guard let pairs = node.pairs else { return mismatch(node, .object(schema)) }
        var given: [String: (key: YAMLNode, value: Value?)] = [:]
        for pair in pairs {
            guard let k = keyText(pair.key) else {
                continue
            }
            guard let field = schema.field(k) else {
                var notes: [Note] = []
                let names = schema.fields.map(\.name)
                if let alias = Self.aliases[k], names.contains(alias) {
                    notes.append(Note("did you mean '\(alias)'? (Tailor's name for '\(k)')"))
                } else if let hint = Suggestions.didYouMean(k, in: names) {
                    notes.append(Note(hint))
                }
                diagnostics.error(.unknownKey(k, in: schema.name), at: pair.key.location, notes: notes)
                continue
            }
            let v: Value?
            if let reuse, schema.name == SpecSchema.root.name, case let .dict(element, keyKind) = field.type {
                v = dictionary(pair.value, element, keyKind: keyKind, reuse: { reuse(k, $0) })
            } else {
                v = check(pair.value, as: field.type, key: k)
            }
            given[k] = (pair.key, v)
        }
        checkRules(schema, given, at: node.location)
        var entries: [(String, Value)] = []
        for field in schema.fields {
            if let g = given[field.name] {
                if let v = g.value { entries.append((field.name, v)) }
            } else if field.required {
                diagnostics.error(.missingKey(field.name, in: schema.name), at: node.location)
            } else if let d = field.defaultValue {
                entries.append((field.name, Value(d, at: nil)))
            }
        }
        return Value(.object(entries), at: node.location)
    }

    private mutating func checkRules(
        _ schema: ObjectSchema, _ given: [String: (key: YAMLNode, value: Value?)], at location: SourceLocation
    ) {
        for rule in schema.rules {
            switch rule {
            case let .exactlyOne(keys, when):
                if let when, given[when] == nil { continue }
                let present = keys.filter { given[$0] != nil }
                if present.isEmpty {
                    diagnostics.error(.noneOf("a \(schema.name)\(when.map { " with '\($0)'" } ?? "")", keys), at: location)
                    } else if present.count > 1 {
                    reportConflict(present, given)
                    }
            case .atLeastOne(let keys):
                if !keys.contains(where: { given[$0] != nil }) { diagnostics.error(.noneOf("a \(schema.name)", keys), at: location) }
            case .atMostOne(let keys):
                let present = keys.filter { given[$0] != nil }
                if present.count > 1 {
                    reportConflict(present, given)
                    }
            case let .needs(key, others):
                if let g = given[key], !others.contains(where: { given[$0] != nil }) {
                    diagnostics.error(.needs(key, others), at: g.key.location)
                    }
            case .alone(let key):
                if given[key] != nil, let other = schema.fields.map(\.name).first(where: { $0 != key && given[$0] != nil }) {
                    reportConflict([key, other], given)
                }
            }
        }
    }

    /// Reports the later of two conflicting keys, pointing back at the earlier one.
    private mutating func reportConflict(_ present: [String], _ given: [String: (key: YAMLNode, value: Value?)]) {
        let sorted = present.compactMap { k in given[k].map { (k, $0.key.location) } }.sorted { $0.1 < $1.1 }
        guard let first = sorted.first, let second = sorted.dropFirst().first else { return }
        diagnostics.error(.conflict(first.0, second.0), at: second.1, notes: [Note("'\(first.0)' is set here", at: first.1)])
    }

    private mutating func dictionary(
        _ node: YAMLNode, _ element: SchemaType, keyKind: String, reuse: ((String) -> Value?)? = nil
    ) -> Value? {
        if node.isNull { return Value(.object([]), at: node.location) }
        guard let pairs = node.pairs else { return mismatch(node, .dict(element, keyKind: keyKind)) }
        var entries: [(String, Value)] = []
        let namesAreIdentifiers = keyKind.hasSuffix(" names") && keyKind != "option names"
        for pair in pairs {
            guard let k = keyText(pair.key) else {
                continue
            }
            if namesAreIdentifiers, !Self.isIdentifier(k) {
                diagnostics.error(.badName(k), at: pair.key.location)
            }
            if let shared = reuse?(k) {
                entries.append((k, shared))
            } else if let v = check(pair.value, as: element, key: k) {
                entries.append((k, v))
            }
        }
        return Value(.object(entries), at: node.location)
    }

    private mutating func anyOf(_ node: YAMLNode, _ alternatives: [SchemaType], key: String) -> Value? {
        for alt in alternatives {
            switch (alt, node.kind) {
            case (.object, .mapping), (.dict, .mapping), (.list, .sequence):
                return check(node, as: alt, key: key)
            case (.bool, .scalar), (.int, .scalar), (.number, .scalar):
                var probe = SchemaChecker()
                if let v = probe.check(node, as: alt, key: key) { return v }
            case (.string, .scalar), (.choice, .scalar), (.identifier, .scalar), (.path, .scalar), (.reference, .scalar):
                return check(node, as: alt, key: key)
            default:
                continue
            }
        }
        return mismatch(node, .anyOf(alternatives))
    }
}
