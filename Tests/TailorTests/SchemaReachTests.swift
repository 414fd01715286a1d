import Foundation
import TailorDiagnostics
import TailorPlan
import TailorSpec
import XCTest

/// "No accepted key is ever ignored", walked over the whole schema: every field of every
/// mapping the checker accepts, changed in the example specs (one `--set` at a time), either
/// changes the plan (a node's content key, the set of nodes, or the run's name), or names a
/// file whose digest is in a node's key, or is refused by the checker. What reaches the plan
/// reaches what runs: the executor fails any node whose runner leaves a parameter unread
/// (ParamsTests, and every runner in the executor and command-line tests).
final class SchemaReachTests: XCTestCase {
    /// Fields that change no content key by design, and what they change instead.
    static let byDesign: [String: String] = [
        "spec.tailor": "the language version: any other value is refused",
        "spec.extends": "composition: its effect is the merged spec, which the plan reflects (SpecLoaderTests)",
        "spec.sweep": "expands into variants, whose keys differ (sweep goldens)",
        "spec.vars": "substituted into other keys before checking; a variable no key uses changes nothing (VariableTests)",
        "tokenizer.bytes": "selects the byte tokenizer: `true` is its one value (`false` is refused)",
    ]

    func testEveryAcceptedKeyReachesThePlanOrIsRefused() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: Golden.root.appendingPathComponent("specs").path)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { "specs/" + $0 } + ["Tests/SchemaReach/every-key.yaml"]
        var walk = SchemaWalk()
        for spec in specs { try walk.walk(spec: Golden.root.appendingPathComponent(spec).path) }
        var problems: [String] = []
        for key in SchemaWalk.allFields(SpecSchema.root) where Self.byDesign[key] == nil {
            switch walk.outcomes[key] {
            case .reached?: continue
            case .refused?: problems.append("\(key): every change tried was refused, none reached the plan (\(walk.refusedAt[key] ?? ""))")
            case .unchanged?: problems.append("\(key): accepted but changes nothing (\(walk.unchangedAt[key] ?? ""))")
            case nil: problems.append("\(key): no example spec sets it or its parent")
            }
        }
        XCTAssertTrue(problems.isEmpty, "\n" + problems.joined(separator: "\n"))
    }
}

/// Changes every field the example specs reach, one at a time, and records what each did.
struct SchemaWalk {
    enum Outcome: Int, Comparable {
        case unchanged, refused, reached
        static func < (a: Outcome, b: Outcome) -> Bool { a.rawValue < b.rawValue }
    }

    var compiler = Compiler()
    var outcomes: [String: Outcome] = [:]
    /// Where each field was first left unchanged, or refused (for the failure message).
    var unchangedAt: [String: String] = [:], refusedAt: [String: String] = [:]

    /// Every field path `schema.field` reachable from the root.
    static func allFields(_ root: ObjectSchema) -> [String] {
        var out: [String] = [], seen = Set<String>()
        func visit(_ o: ObjectSchema) {
            guard seen.insert(o.name).inserted else { return }
            for f in o.fields {
                out.append(o.name + "." + f.name)
                for child in objects(in: f.type) { visit(child) }
            }
        }
        visit(root)
        return out
    }

    static func objects(in type: SchemaType) -> [ObjectSchema] {
        switch type {
        case .object(let o): [o]
        case .list(let t, _), .dict(let t, _): objects(in: t)
        case .anyOf(let ts): ts.flatMap(objects(in:))
        default: []
        }
    }

    // MARK: walking one spec

    struct Baseline {
        var name: String
        var description: String?
        var keys: [String: String]
        var files: Set<String>
    }

    mutating func plan(_ spec: String, _ sets: [String]) -> Plan? {
        var diagnostics = DiagnosticBag()
        return compiler.plan(file: spec, sets: sets, diagnostics: &diagnostics)
    }

    mutating func walk(spec: String) throws {
        var diagnostics = DiagnosticBag()
        guard let checked = compiler.check(file: spec, diagnostics: &diagnostics).first, let plan = plan(spec, []) else {
            return XCTFail("\(spec) does not plan")
        }
        let baseline = Baseline(name: plan.name, description: plan.description, keys: Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.id, $0.key) }),
                                files: Set(plan.nodes.flatMap(\.files)))
        visit(SpecSchema.root, checked.value, path: [], spec: spec, checked: checked.value, baseline: baseline)
    }

    /// Tries every field of `schema` in `value`; returns the best any of them did (a mapping
    /// whose fields reach the plan reaches it).
    @discardableResult
    mutating func visit(_ schema: ObjectSchema, _ value: Value, path: [String], spec: String, checked: Value, baseline: Baseline) -> Outcome? {
        var best: Outcome?
        func note(_ o: Outcome?) { if let o { best = max(best ?? o, o) } }
        for field in schema.fields {
            let key = schema.name + "." + field.name
            let current = value[field.name]
            let here = path + [field.name]
            // Descend into what is there.
            switch field.type {
            case .object(let o):
                if let current, let o = visit(o, current, path: here, spec: spec, checked: checked, baseline: baseline) { record(key, o, at: spec); note(o) }
                continue
            case .dict(.object(let o), _):
                for (name, entry) in current?.entries ?? [] {
                    if let o = visit(o, entry, path: here + [name], spec: spec, checked: checked, baseline: baseline) { record(key, o, at: spec); note(o) }
                }
                continue
            case .list(.object(let o), _):
                for (i, item) in (current?.list ?? []).enumerated() {
                    if let o = visit(o, item, path: here + ["\(i)"], spec: spec, checked: checked, baseline: baseline) { record(key, o, at: spec); note(o) }
                }
                continue
            default:
                break
            }
            // A file the spec names is in the key of the node that reads it (its digest).
            if case .path = field.type, let p = current?.string, baseline.files.contains(p) {
                record(key, .reached, at: spec)
                note(.reached)
                continue
            }
            if outcomes[key] == .reached {  // shown already
                note(.reached)
                continue
            }
            for alternative in alternatives(field, current, checked: checked) {
                let (outcome, why) = reach(spec, here, alternative, baseline)
                record(key, outcome, at: "\(spec) \(here.joined(separator: "."))=\(alternative)" + (why.map { ": " + $0 } ?? ""))
                note(outcome)
                if outcome == .reached { break }
            }
        }
        return best
    }

    mutating func record(_ key: String, _ outcome: Outcome, at place: String) {
        if outcome == .unchanged, unchangedAt[key] == nil { unchangedAt[key] = place }
        if outcome == .refused, refusedAt[key] == nil { refusedAt[key] = place }
        outcomes[key] = max(outcomes[key] ?? .unchanged, outcome)
    }

    mutating func reach(_ spec: String, _ path: [String], _ yaml: String, _ baseline: Baseline) -> (Outcome, String?) {
        var diagnostics = DiagnosticBag()
        guard let plan = compiler.plan(file: spec, sets: [path.joined(separator: ".") + "=" + yaml], diagnostics: &diagnostics) else {
            return (.refused, diagnostics.sorted.first { $0.severity == .error }.map(\.message))
        }
        let keys = Dictionary(uniqueKeysWithValues: plan.nodes.map { ($0.id, $0.key) })
        return (keys != baseline.keys || plan.name != baseline.name || plan.description != baseline.description ? .reached : .unchanged, nil)
    }

    // MARK: other values to try

    func alternatives(_ field: Field, _ current: Value?, checked: Value) -> [String] {
        let fallback = field.defaultValue.map { Value($0, at: nil) }
        return Array(Self.alternatives(field.type, current ?? fallback, checked: checked).prefix(16))
    }

    static func alternatives(_ type: SchemaType, _ current: Value?, checked: Value) -> [String] {
        switch type {
        case let .int(lo, hi):
            let base = current?.int ?? lo ?? 1
            let tries = [base + 1, base * 2, base - 1, lo ?? 1, (lo ?? 1) + 1, base + 8]
            return unique(tries.filter { $0 != base && $0 >= (lo ?? Int.min) && $0 <= (hi ?? Int.max) }.map(String.init))
        case let .number(lo, hi, exclusive):
            let base = current?.number ?? ((lo ?? 0) + 0.5)
            let tries = [base * 2, base / 2, base + 0.1, base + 1, (lo ?? 0) + 0.25]
            return unique(tries.filter { t in
                t != base && (lo.map { exclusive ? t > $0 : t >= $0 } ?? true) && (hi.map { t <= $0 } ?? true)
            }.map { "\($0)" })
        case .bool:
            return ["\(!(current?.bool ?? false))"]
        case .choice(let words):
            return words.filter { $0 != current?.string }
        case .string, .identifier:
            return [render(Value(.string((current?.string ?? "x") + "y"), at: nil))]
        case .path:  // a path the node writes (a command's output): another name
            guard let p = current?.string else { return [] }
            return [render(Value(.string((p as NSString).deletingPathExtension + "-2." + (p as NSString).pathExtension), at: nil))]
        case .reference(let kind):
            let names = checked[kind.section]?.keys ?? []
            return names.filter { $0 != current?.string }
        case .list(let item, let minCount):
            let items = (current?.list ?? []).map(render)
            var out: [String] = []
            if items.count > minCount { out.append("[" + items.dropLast().joined(separator: ", ") + "]") }
            if items.count > 1 { out.append("[" + items.reversed().joined(separator: ", ") + "]") }
            // Module names and patterns, for lists of them (`targets`, `freeze`, `unfreeze`).
            let modules = if case .string = item { ["\"layers.0.*\"", "\"attn.k\""] } else { [String]() }
            for extra in modules + alternatives(item, nil, checked: checked) where !items.contains(extra) {
                out.append("[" + (items + [extra]).joined(separator: ", ") + "]")
            }
            return out
        case .dict(let item, _):
            guard let entries = current?.entries, let (name, first) = entries.first else { return [] }
            var out: [String] = []
            // The same values moved one entry along (split fractions keep their sum).
            let values = entries.map { render($0.1) }
            if Set(values).count > 1 {
                let moved = Array(values.dropFirst()) + [values[0]]
                out.append("{" + zip(entries, moved).map { "\($0.0.0): \($0.1)" }.joined(separator: ", ") + "}")
            }
            return out + alternatives(item, first, checked: checked).map { "{" + name + ": " + $0 + "}" }
        case .anyOf(let types):
            return types.flatMap { alternatives($0, current, checked: checked) }
        case .object:
            return []
        }
    }

    static func render(_ v: Value) -> String {
        switch v.kind {
        case .string(let s): "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .int(let i): "\(i)"
        case .number(let d): "\(d)"
        case .bool(let b): "\(b)"
        case .list(let l): "[" + l.map(render).joined(separator: ", ") + "]"
        case .object(let o): "{" + o.map { "\($0.0): \(render($0.1))" }.joined(separator: ", ") + "}"
        }
    }

    static func unique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}
