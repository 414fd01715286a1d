import Foundation
import TailorDiagnostics
import TailorYAML

/// The second pass: references, cycles and typed ports over the schema-checked tree.
/// Every node kind declares what it consumes, and a mismatch points at the line that
/// makes the reference, naming both types.
public struct SpecChecker {
    var diagnostics = DiagnosticBag()
    let file: String
    let directory: String
    var value: Value
    var datasets: [String: DatasetInfo] = [:]
    var tokenizers: [String: TokenizerInfo] = [:]
    var models: [String: ModelInfo] = [:]
    /// Entries that sit on a dependency cycle; their types cannot be derived.
    var cyclic: Set<String> = []
    var formatMemo: [String: DataFormat?] = [:]
    /// How loaded models' headers are read; without one, loaded models have no dimensions.
    var headers: ModelHeaderReader?

    /// Checks one composed variant. Returns nil when any error was found.
    /// `shared`, when given, is an earlier variant's checked spec whose entries that the
    /// sweep cannot change are reused instead of checked again.
    public static func check(
        _ loaded: LoadedSpec, variant: SpecVariant, sharing shared: CheckedSpec? = nil, headers: ModelHeaderReader? = nil,
        diagnostics: inout DiagnosticBag
    ) -> CheckedSpec? {
        var schema = SchemaChecker()
        if let shared {
            let scope = loaded.scope
            schema.reuse = { section, name in
                scope.mayChange(section: section, name: name) ? nil : shared.value[section]?[name]
            }
        }
        let value = schema.check(variant.root, as: .object(SpecSchema.root), key: "spec")
        diagnostics.append(contentsOf: schema.diagnostics)
        guard let value else { return nil }
        var checker = SpecChecker(file: loaded.file, directory: loaded.directory, value: value)
        checker.headers = headers
        checker.run()
        diagnostics.append(contentsOf: checker.diagnostics)
        if diagnostics.hasErrors { return nil }
        return CheckedSpec(
            file: loaded.file, directory: loaded.directory,
            name: value["name"]?.string ?? "spec", seed: value["seed"]?.int ?? 0, variant: variant.label, assignments: variant.assignments,
            scope: loaded.scope,
            value: checker.value, datasets: checker.datasets, tokenizers: checker.tokenizers, models: checker.models)
    }

    mutating func run() {
        if let v = value["tailor"], let n = v.int, n != SpecSchema.version {
            diagnostics.error(.unsupportedVersion(String(n)), at: v.location)
        }
        checkReferencesAndCycles()
        checkData()
        checkTokenizers()
        checkPrompts()
        checkModels()
        checkRAG()
        checkEvals()
        checkExports()
    }

    func entries(_ section: String) -> [(String, Value)] { value[section]?.entries ?? [] }

    func entry(_ kind: ReferenceKind, _ name: String) -> Value? { value[kind.section]?[name] }

    // MARK: references

    /// A reference found in the tree, with the entry that makes it.
    struct Reference {
        var kind: ReferenceKind
        var target: String
        var location: SourceLocation?
    }

    /// Every reference inside `value`, found by walking it together with its schema.
    static func references(in value: Value, schema: SchemaType) -> [Reference] {
        var out: [Reference] = []
        collect(value, schema, &out)
        return out
    }

    private static func collect(_ value: Value, _ schema: SchemaType, _ out: inout [Reference]) {
        switch schema {
        case .reference(let kind):
            if let s = value.string { out.append(Reference(kind: kind, target: s, location: value.location)) }
        case .list(let element, _):
            for item in value.list ?? [] { collect(item, element, &out) }
        case .object(let o):
            for (k, v) in value.entries ?? [] {
                if let f = o.field(k) { collect(v, f.type, &out) }
            }
        case .dict(let element, _):
            for (_, v) in value.entries ?? [] { collect(v, element, &out) }
        case .anyOf(let alts):
            for alt in alts {
                if case .object = alt, value.entries != nil { collect(value, alt, &out) }
            }
        default:
            break
        }
    }

    static let sections: [(ReferenceKind, ObjectSchema)] = [
        (.data, SpecSchema.data), (.tokenizer, SpecSchema.tokenizer), (.model, ModelSchema.model),
        (.prompt, SpecSchema.prompt), (.rag, EvalSchema.rag),
    ]

    /// Resolves every reference by name (suggesting near misses), then finds cycles
    /// among entries and reports each with its whole path.
    mutating func checkReferencesAndCycles() {
        var edges: [String: [(String, SourceLocation?)]] = [:]
        var order: [String] = []
        var checkRefs: [(from: String?, refs: [Reference])] = []
        for (kind, schema) in Self.sections {
            for (name, v) in entries(kind.section) {
                let id = "\(kind.section).\(name)"
                order.append(id)
                checkRefs.append((id, Self.references(in: v, schema: .object(schema))))
            }
        }
        for (_, v) in entries("evals") {
            checkRefs.append((nil, Self.references(in: v, schema: .object(EvalSchema.eval))))
        }
        for (_, v) in entries("exports") { checkRefs.append((nil, Self.references(in: v, schema: .object(EvalSchema.export)))) }
        if let serve = value["serve"] { checkRefs.append((nil, Self.references(in: serve, schema: .object(EvalSchema.serve)))) }

        for (from, refs) in checkRefs {
            for ref in refs {
                guard let target = resolve(ref) else { continue }
                if let from { edges[from, default: []].append((target, ref.location)) }
            }
        }
        findCycles(order: order, edges: edges)
    }

    /// The entry id (`data.sums`) a reference names, or nil after reporting why not.
    mutating func resolve(_ ref: Reference) -> String? {
        var name = ref.target
        var part: String?
        if ref.kind == .data, let dot = name.firstIndex(of: ".") {
            part = String(name[name.index(after: dot)...])
            name = String(name[..<dot])
        }
        let names = entries(ref.kind.section).map(\.0)
        guard let target = entry(ref.kind, name) else {
            var notes: [Note] = []
            if let hint = Suggestions.didYouMean(name, in: names) { notes.append(Note(hint)) }
            if names.isEmpty { notes.append(Note("the spec defines no \(ref.kind.section) entries")) }
            diagnostics.error(.unknownReference(ref.target, ref.kind), at: ref.location, notes: notes)
            return nil
        }
        if ref.kind == .data {
            let parts = target["split"]?.keys
            switch (part, parts) {
            case let (nil, parts?):
                diagnostics.error(.needsPart(name, parts), at: ref.location)
                return nil
            case let (p?, parts?) where !parts.contains(p):
                var notes: [Note] = []
                if let hint = Suggestions.didYouMean(p, in: parts) { notes.append(Note(hint)) }
                diagnostics.error(.noPart(name, p), at: ref.location, notes: notes)
                return nil
            case (_?, nil):
                diagnostics.error(.notSplit(name), at: ref.location)
                return nil
            default:
                break
            }
        }
        return "\(ref.kind.section).\(name)"
    }

    mutating func findCycles(order: [String], edges: [String: [(String, SourceLocation?)]]) {
        var state: [String: Int] = [:]  // 1 on the stack, 2 done
        var stack: [(String, SourceLocation?)] = []
        var reported: Set<String> = []

        func visit(_ node: String, _ via: SourceLocation?, _ me: inout SpecChecker) {
            state[node] = 1
            stack.append((node, via))
            for (next, loc) in edges[node] ?? [] {
                if state[next] == 1 {
                    let start = stack.firstIndex { $0.0 == next } ?? 0
                    let members = stack[start...].map(\.0)
                    me.cyclic.formUnion(members)
                    let key = members.sorted().joined(separator: ",")
                    if reported.insert(key).inserted {
                        let chain = (members + [next]).joined(separator: " → ")
                        me.diagnostics.error(.cycle(chain), at: loc)
                    }
                } else if state[next] == nil {
                    visit(next, loc, &me)
                }
            }
            stack.removeLast()
            state[node] = 2
        }
        for node in order where state[node] == nil { visit(node, nil, &self) }
    }

    // MARK: helpers for typed ports

    /// Splits `name.part` into a `DataRef`.
    func dataRef(_ v: Value?) -> DataRef? {
        guard let s = v?.string else { return nil }
        if let dot = s.firstIndex(of: ".") {
            return DataRef(name: String(s[..<dot]), part: String(s[s.index(after: dot)...]))
        }
        return DataRef(name: s)
    }

    /// Checks that the dataset a reference names has one of `formats`.
    mutating func expectFormat(_ ref: Value?, _ formats: [DataFormat], for what: String) {
        guard let ref, let r = dataRef(ref), !cyclic.contains("data.\(r.name)"),
            let format = formatMemo[r.name] ?? nil
        else { return }
        if !formats.contains(format) {
            diagnostics.error(
                .wrongFormat(what, needs: formats, got: format), at: ref.location,
                notes: [Note("'\(r.name)' is defined here", at: entry(.data, r.name)?.location)])
        }
    }

    /// Checks that a path names something Tailor can read: a regular file (`folder` false),
    /// a folder (true), or either (nil). A FIFO, device or socket would block or never end,
    /// so it is refused here, at its line, before anything plans or runs.
    mutating func expectFile(_ v: Value?, folder: Bool? = nil) {
        guard let v, let path = v.string else { return }
        let found = FileProbe.kind(CheckedSpec.resolve(path, in: directory))
        switch (found, folder) {
        case (.file, false), (.file, nil), (.folder, true), (.folder, nil): return
        case (.missing, _):
            diagnostics.error(.fileMissing(path), at: v.location, notes: [Note("paths are relative to the spec's folder")])
        case (.file, true):
            diagnostics.error(.notAFolder(path), at: v.location)
        default:
            let wanted: FileProbe.Kind = folder == true ? .folder : .file
            let fix = switch found {
            case .loop: "fix or remove the links; `ls -l` shows where each one points"
            case .denied: "give the user running Tailor read access, or copy the file"
            case .special: folder == true ? "name a folder of files" : "copy what it streams into a regular file and name that"
            default: "name a readable \(folder == true ? "folder" : "file")"
            }
            diagnostics.error(.unusablePath(path, FileProbe.describe(found, wanted: wanted)), at: v.location, notes: [Note(fix)])
        }
    }

    /// `{name}` placeholders of a template; `{{` and `}}` are literal braces.
    static func placeholders(_ template: String) -> [String] {
        var out: [String] = []
        var chars = Array(template)[...]
        while let open = chars.firstIndex(of: "{") {
            let next = chars.index(after: open)
            if next < chars.endIndex, chars[next] == "{" {
                chars = chars[chars.index(after: next)...]
                continue
            }
            guard let close = chars[next...].firstIndex(of: "}") else { break }
            out.append(String(chars[next..<close]))
            chars = chars[chars.index(after: close)...]
        }
        return out
    }
}

extension Value {
    /// The object with entry `key` replaced or added.
    public func setting(_ key: String, _ new: Value) -> Value {
        guard var e = entries else { return self }
        if let i = e.firstIndex(where: { $0.0 == key }) { e[i].1 = new } else { e.append((key, new)) }
        return Value(.object(e), at: location)
    }
}
