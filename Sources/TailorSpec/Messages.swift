import TailorDiagnostics

/// Every message the spec checker can produce, in one place.
extension Message {
    // shape
    static func unknownKey(_ key: String, in object: String) -> Message { Message("unknown key '\(key)' in \(object)") }
    static func missingKey(_ key: String, in object: String) -> Message { Message("missing required key '\(key)' in \(object)") }
    static func expected(_ type: String, found: String) -> Message { Message("expected \(type), found \(found)") }
    static func outOfRange(_ value: String, _ range: String) -> Message { Message("\(value) is out of range: expected \(range)") }
    static func notAChoice(_ word: String, key: String) -> Message { Message("'\(word)' is not a valid value for '\(key)'") }
    static func badName(_ name: String) -> Message {
        Message("'\(name)' is not a valid name: use letters, digits, '_' and '-', starting with a letter")
    }
    static let keyNotScalar = Message("keys must be plain names, not lists or mappings")
    static func noneOf(_ object: String, _ keys: [String]) -> Message {
        Message("\(object) needs one of \(keys.map { "'\($0)'" }.joined(separator: ", "))")
    }
    static func conflict(_ a: String, _ b: String) -> Message { Message("'\(a)' and '\(b)' cannot both be set") }
    static func needs(_ key: String, _ others: [String]) -> Message {
        Message("'\(key)' only applies together with \(others.map { "'\($0)'" }.joined(separator: " or "))")
    }
    static func notForTokenizer(_ key: String, _ source: String) -> Message { Message("'\(key)' does not apply to a tokenizer from '\(source)'") }
    static func folderFormat(_ format: String) -> Message { Message("a folder's records are documents (`id`, `text`), not '\(format)'") }
    static let bytesIsTrue = Message("'bytes' chooses the byte tokenizer and takes only `true`")
    static func notForMethod(_ key: String, _ method: String) -> Message { Message("'\(key)' does not apply to a '\(method)' model") }
    static func tooFewItems(_ count: Int, min: Int) -> Message { Message("list has \(count) item\(count == 1 ? "" : "s"); at least \(min) needed") }
    static let topLevelNotMapping = Message("a spec must be a mapping of keys such as 'tailor:', 'name:' and 'models:'")
    static func unsupportedVersion(_ v: String) -> Message { Message("unsupported spec version \(v); this Tailor reads 'tailor: 1'") }

    // composition
    static func unknownVariable(_ name: String) -> Message { Message("unknown variable '${\(name)}'") }
    static let unterminatedVariable = Message("'${' is not closed by '}'")
    static func extendsCycle(_ chain: String) -> Message { Message("specs extend each other in a cycle: \(chain)") }
    static func cannotRead(_ path: String, _ why: String) -> Message { Message("cannot read '\(path)': \(why)") }
    static func badSet(_ text: String) -> Message { Message("--set expects KEY.PATH=VALUE, got '\(text)'") }
    static func setThroughScalar(_ path: String, _ at: String) -> Message {
        Message("cannot set '\(path)': '\(at)' is not a mapping")
    }
    static func badListIndex(_ index: String, _ count: Int) -> Message {
        Message("'\(index)' is not an index of a list of \(count) item\(count == 1 ? "" : "s")")
    }
    static func sweepTooLarge(_ n: Int, _ limit: Int) -> Message { Message("sweep expands to \(n) variants; the limit is \(limit)") }
    static let sweepSweep = Message("a sweep cannot change 'sweep' itself")
    static func keyPathTooDeep(_ parts: Int, _ limit: Int) -> Message {
        Message("the key path has \(parts) parts; a spec nests at most \(limit) levels deep")
    }

    // references and types
    static func unknownReference(_ name: String, _ kind: ReferenceKind) -> Message {
        Message("no \(kind.noun) named '\(name)'")
    }
    static func needsPart(_ name: String, _ parts: [String]) -> Message {
        Message("'\(name)' is split into \(parts.map { "'\($0)'" }.joined(separator: ", ")); name one part, e.g. '\(name).\(parts.first ?? "train")'")
    }
    static func noPart(_ name: String, _ part: String) -> Message { Message("'\(name)' has no part '\(part)'") }
    static func notSplit(_ name: String) -> Message { Message("'\(name)' is not split, so it has no parts") }
    static func cycle(_ chain: String) -> Message { Message("dependency cycle: \(chain)") }
    static func wrongFormat(_ what: String, needs: [DataFormat], got: DataFormat) -> Message {
        Message("\(what) needs \(needs.map { "'\($0.rawValue)'" }.joined(separator: " or ")) data, but this dataset is '\(got.rawValue)'")
    }
    static func metricAlone(_ metric: String) -> Message { Message("metric '\(metric)' cannot share an eval with other metrics") }
    static func taskCount(_ given: Int, _ model: String, _ trained: Int) -> Message {
        Message("'tasks' lists \(given) held-out set\(given == 1 ? "" : "s"), but '\(model)' trains on \(trained) task\(trained == 1 ? "" : "s")")
    }
    static func labelNeedsSamples(_ name: String) -> Message {
        Message("'label' pairs a model's sampled answers, but '\(name)' is not a `sample` dataset")
    }
    static func badPattern(_ pattern: String) -> Message { Message("'\(pattern)' is not a valid regular expression") }
    static func wrongModel(_ what: String, needs: String, got: String) -> Message {
        Message("\(what) needs \(needs), but this model is \(got)")
    }
    static func splitSum(_ sum: String) -> Message { Message("split fractions sum to \(sum); they must sum to 1") }
    static func heads(_ width: Int, _ heads: Int) -> Message { Message("\(heads) heads do not divide width \(width)") }
    static func kvHeads(_ heads: Int, _ kv: Int) -> Message { Message("\(kv) key/value heads do not divide \(heads) heads") }
    static let kvHeadsNotLlama = Message("'kv_heads' (grouped-query attention) applies to 'llama' models only")
    static func unknownModule(_ target: String, _ arch: String) -> Message { Message("'\(target)' is not a module of a '\(arch)' model") }
    static func derivedTokenizer(_ base: String) -> Message {
        Message("a derived model keeps the tokenizer of its base '\(base)'; remove 'tokenizer'")
    }
    static let missingSize = Message("a model built from 'arch' needs 'size'")
    static let missingTokenizer = Message("a model built from 'arch' needs 'tokenizer'")
    static func fileMissing(_ path: String) -> Message { Message("file '\(path)' does not exist") }
    static func notAFolder(_ path: String) -> Message { Message("'\(path)' is not a folder") }
    static func unusablePath(_ path: String, _ problem: String) -> Message { Message("'\(path)' \(problem)") }
    static func unknownFormatExtension(_ path: String) -> Message {
        Message("cannot tell the format of '\(path)'; add 'format:'")
    }
    static func unknownField(_ field: String, _ format: String) -> Message {
        Message("'\(field)' is not a field of '\(format)' records")
    }
    static func placeholder(_ name: String, _ format: DataFormat) -> Message {
        Message("placeholder '{\(name)}' is not a field of '\(format.rawValue)' records")
    }
    static func mixFormats(_ a: DataFormat, _ b: DataFormat) -> Message {
        Message("a mixture needs datasets of one format, but this one is '\(b.rawValue)' and the first is '\(a.rawValue)'")
    }
    static func overlap(_ overlap: Int, _ size: Int) -> Message { Message("overlap \(overlap) must be smaller than chunk size \(size)") }
    static func lengthOrder(_ lo: Int, _ hi: Int) -> Message { Message("min_length \(lo) is greater than max_length \(hi)") }
    static func sequenceTooLong(_ seq: Int, _ context: Int) -> Message { Message("sequence \(seq) is longer than the model's context \(context)") }
    static func metricSubject(_ metric: String, _ subject: String) -> Message { Message("metric '\(metric)' scores \(subject)s") }
    static func metricNeeds(_ metric: String, _ key: String) -> Message { Message("metric '\(metric)' needs '\(key)'") }
    static let ragPromptPlaceholders = Message("a RAG prompt must use '{context}' and '{question}'")
    static func servedRAGNeeds(_ name: String, _ key: String) -> Message {
        Message("RAG pipeline '\(name)' has no '\(key)', so it cannot answer: a served pipeline needs a generator and a prompt")
    }
    static func servedTwice(_ name: String) -> Message { Message("'\(name)' is served twice: a model and a RAG pipeline cannot share a name") }
    static let mergeNeedsLoRA = Message("'merge: true' only applies to LoRA models")
    static let peftNeedsLoRA = Message("'format: peft' writes a LoRA adapter, but this model has none")
}
