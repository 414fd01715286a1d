import Foundation
import TailorDiagnostics

extension SpecChecker {
    mutating func checkData() {
        for (name, v) in entries("data") {
            let format = format(of: name)
            datasets[name] = DatasetInfo(name: name, format: format, parts: v["split"]?.keys, value: v)
            checkDataset(name, v, format)
        }
    }

    /// The record format of dataset `name`, derived through `from` chains.
    mutating func format(of name: String) -> DataFormat? {
        if let memo = formatMemo[name] { return memo }
        guard !cyclic.contains("data.\(name)"), let v = entry(.data, name) else { return nil }
        formatMemo[name] = .some(nil)
        var result: DataFormat?
        if let explicit = v["format"]?.string {
            result = DataFormat(named: explicit)
        } else if let g = v["generate"]?.string {
            result = Generator.named(g)?.format
        } else if let file = v["file"]?.string {
            if file.hasSuffix(".txt") || file.hasSuffix(".md") {
                result = .text
            } else {
                diagnostics.error(
                    .unknownFormatExtension(file), at: v["file"]?.location,
                    notes: [Note("one of \(DataFormat.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))")])
            }
        } else if v["folder"] != nil {
            result = .documents
        } else if v["command"] != nil {
            diagnostics.error(.missingKey("format", in: "a dataset made by 'command'"), at: v.location)
        } else if v["sample"] != nil {
            result = .instruction
        } else if v["label"] != nil {
            result = .preference
        } else if v["template"] != nil {
            // A prompt renders each record's prompt; pairs keep both answers.
            result = dataRef(v["from"]).flatMap { format(of: $0.name) } == .preference ? .preference : .instruction
        } else if let source = dataRef(v["from"]) {
            result = format(of: source.name)
        } else if let parts = v["mix"]?.list {
            let formats = parts.map { part -> DataFormat? in dataRef(part["from"]).flatMap { format(of: $0.name) } }
            result = formats.first ?? nil
            if let first = result {
                for (part, f) in zip(parts, formats) where f != nil && f != first {
                    diagnostics.error(.mixFormats(first, f!), at: part["from"]?.location)
                }
            }
        }
        formatMemo[name] = .some(result)
        return result
    }

    mutating func checkDataset(_ name: String, _ v: Value, _ format: DataFormat?) {
        if let split = v["split"]?.entries {
            let sum = split.reduce(0.0) { $0 + ($1.1.number ?? 0) }
            if abs(sum - 1) > 1e-9 {
                diagnostics.error(.splitSum(String(format: "%.10g", sum)), at: v["split"]?.location)  // 1.0000001 must not print as 1
            }
        }
        if let fields = v["fields"]?.entries, let format {
            // A layout's fields are the file's (`instruction`, `conversations`), not the format's.
            let layout = v["format"]?.string.flatMap(RecordLayout.init(rawValue:))
            let known = layout?.fields ?? format.fields
            let name = layout?.rawValue ?? format.rawValue
            for (field, mapped) in fields where !known.contains(field) {
                var notes: [Note] = []
                if let hint = Suggestions.didYouMean(field, in: known) { notes.append(Note(hint)) }
                notes.append(Note("'\(name)' records have \(known.map { "'\($0)'" }.joined(separator: ", "))"))
                diagnostics.error(.unknownField(field, name), at: mapped.location, notes: notes)
            }
        }
        if let g = v["generate"]?.string, let generator = Generator.named(g) {
            let options = checkOptions(generator, v["options"], at: v.location)
            datasets[name]?.value = v.setting("options", options)
            // Every sheet is about someone else; there are this many invented people.
            if g == "documents", let count = v["count"], let n = count.int, n > Generator.documentSubjects {
                diagnostics.error(.outOfRange(String(n), "at most \(Generator.documentSubjects) documents, one per invented person"), at: count.location,
                                  notes: [Note("more sheets would repeat a person, and questions about them would have two answers")])
            }
        }
        if v["file"] != nil { expectFile(v["file"], folder: false) }
        if let q = v["qrels"] {
            expectFile(q, folder: false)
            if let f = v["format"]?.string, f != DataFormat.queries.rawValue {
                diagnostics.error(Message("'qrels' judges questions, but this file's format is '\(f)'"), at: q.location,
                                  notes: [Note("use 'format: queries' (a question a record), or remove 'qrels'")])
            } else if v["format"] == nil {
                diagnostics.error(Message("'qrels' judges questions: give the file 'format: queries'"), at: q.location)
            }
        }
        if v["folder"] != nil {
            expectFile(v["folder"], folder: true)
            // Each file becomes `{id, text}`: documents, which also read as text.
            if let f = v["format"], let name = f.string, name != DataFormat.documents.rawValue, name != DataFormat.text.rawValue {
                diagnostics.error(.folderFormat(name), at: f.location,
                                  notes: [Note("remove 'format' (a folder is `documents`), or load a JSONL `file` of \(name) records")])
            }
        }
        if let command = v["command"] {
            for input in command["inputs"]?.list ?? [] { expectFile(input) }
        }
        if let t = v["template"], let source = dataRef(v["from"]), let sourceFormat = formatMemo[source.name] ?? nil {
            checkPlaceholders(prompt: t, format: sourceFormat)
        }
        if let sample = v["sample"] {
            expectFormat(v["from"], [.instruction], for: "sampling answers")
            if let t = sample["prompt"] { checkPlaceholders(prompt: t, format: .instruction) }
        }
        if let label = v["label"] { checkLabel(label, from: v["from"]) }
    }

    /// `label` reads a `sample` dataset's groups of answers to one prompt, so its source must
    /// be one (a `take` or `filter` between them would cut groups apart), and its pattern must
    /// compile.
    mutating func checkLabel(_ label: Value, from ref: Value?) {
        if let ref, let r = dataRef(ref), let source = entry(.data, r.name), source["sample"] == nil {
            diagnostics.error(.labelNeedsSamples(r.name), at: ref.location,
                              notes: [Note("define '\(r.name)' with `sample: { model: ..., max_tokens: ... }`, or label a dataset that has it")])
        }
        if let pattern = label["pattern"], let text = pattern.string {
            do {
                _ = try NSRegularExpression(pattern: text)
            } catch {
                diagnostics.error(.badPattern(text), at: pattern.location,
                                  notes: [Note("ICU regular expressions, as NSRegularExpression reads them; escape `\\`, `(` and `[` to match them literally")])
            }
        }
    }

    /// Keeps the options the chosen generator takes, fills its defaults, and reports
    /// options that belong to other generators.
    mutating func checkOptions(_ generator: Generator, _ given: Value?, at location: SourceLocation?) -> Value {
        var out: [(String, Value)] = []
        let own = generator.options.fields.map(\.name)
        for (k, v) in given?.entries ?? [] where !own.contains(k) {
            var notes: [Note] = []
            if let hint = Suggestions.didYouMean(k, in: own) { notes.append(Note(hint)) }
            notes.append(Note(own.isEmpty ? "'\(generator.name)' takes no options" :
                "'\(generator.name)' takes \(own.map { "'\($0)'" }.joined(separator: ", "))"))
            diagnostics.error(.unknownKey(k, in: "the options of '\(generator.name)'"), at: v.location, notes: notes)
        }
        for field in generator.options.fields {
            if let v = given?[field.name] {
                out.append((field.name, v))
            } else if let d = field.defaultValue {
                out.append((field.name, Value(d, at: nil)))
            } else if field.required {
                diagnostics.error(.missingKey(field.name, in: "the '\(generator.name)' generator's options"), at: given?.location ?? location)
            }
        }
        if let lo = given?["min_length"]?.int ?? generator.options.field("min_length")?.defaultValue.flatMap({ Value($0, at: nil).int }),
            let hi = given?["max_length"]?.int ?? generator.options.field("max_length")?.defaultValue.flatMap({ Value($0, at: nil).int }),
            lo > hi
        {
            diagnostics.error(.lengthOrder(lo, hi), at: given?["min_length"]?.location ?? given?["max_length"]?.location)
        }
        if generator.name == "preferences", given?["far"]?.int == 1, let below = given?["below"], below.int == 1 {
            diagnostics.error(.conflict("below", "far"), at: below.location,
                              notes: [Note("with 'far: 1' the wrong answer is any other number, above or below; remove 'below'")])
        }
        if generator.name == "questions" {
            expectFormat(given?["documents"], [.documents], for: "the 'questions' generator")
        }
        return Value(.object(out), at: given?.location)
    }

    mutating func checkTokenizers() {
        for (name, v) in entries("tokenizers") {
            var vocab: Int?
            if let train = v["train"] {
                expectFormat(train["from"], DataFormat.languageModeling + [.documents], for: "tokenizer training")
                vocab = train["vocab"]?.int
            } else if let bytes = v["bytes"] {
                vocab = 256 + (v["special"]?.list?.count ?? 0)
                if bytes.bool == false {  // it chooses the kind of tokenizer: `false` would still plan a byte tokenizer
                    diagnostics.error(.bytesIsTrue, at: bytes.location, notes: [Note("write `bytes: true`, or choose `train:` or `load:` instead")])
                }
            } else if v["load"] != nil {
                expectFile(v["load"])
                if let special = v["special"], special.list?.isEmpty == false {
                    diagnostics.error(.notForTokenizer("special", "load"), at: special.location,
                                      notes: [Note("a loaded tokenizer keeps the special tokens its file defines; remove 'special', or add them to the file")])
                }
            }
            tokenizers[name] = TokenizerInfo(name: name, vocab: vocab, value: v)
        }
    }

    mutating func checkPrompts() {
        for (_, v) in entries("prompts") {
            if let fewShot = v["few_shot"] {
                expectFormat(fewShot["from"], [.instruction, .queries, .classification], for: "few-shot examples")
                if let e = fewShot["embed"], let name = e.string, let m = modelInfo(name) { expectKind(e, m, [.encoder], "'embed'") }
                // Keys that only change how similar examples are chosen and ordered.
                if fewShot["select"]?.string != "similar" {
                    for key in ["embed", "closest"] where fewShot[key].map({ !$0.isDefault }) == true {
                        diagnostics.error(.needs(key, ["select: similar"]), at: fewShot[key]?.location,
                                          notes: [Note("random examples are drawn by seed, not by similarity; remove '\(key)', or set `select: similar`")])
                    }
                }
            }
        }
    }

    /// Checks a prompt's placeholders against the fields of the records it renders.
    mutating func checkPlaceholders(prompt ref: Value, format: DataFormat, extra: [String] = []) {
        guard let name = ref.string, let p = entry(.prompt, name), let template = p["template"] else { return }
        let fields = format.fields + extra
        for ph in Self.placeholders(template.string ?? "") where !fields.contains(ph) {
            var notes: [Note] = []
            if let hint = Suggestions.didYouMean(ph, in: fields) { notes.append(Note(hint)) }
            notes.append(Note("prompt '\(name)' is applied to '\(format.rawValue)' records here", at: ref.location))
            diagnostics.error(.placeholder(ph, format), at: template.location, notes: notes)
        }
    }
}
