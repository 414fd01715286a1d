import TailorSpec

/// data.generate: a built-in generator's records.
public struct DataGenerateParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataGenerate]
    public var generator: String
    public var count: Int
    /// The generator's integer options (`digits`, `max_value`, …), by name.
    public var options: [String: Int]
    public var seed: Int

    public init(_ p: Params) throws {
        generator = try p.required("generator", \.string)
        count = try p.required("count", \.int)
        options = [:]
        for (key, value) in p["options"]?.entries ?? [] { if let v = value.int { options[key] = v } }
        seed = try p.required("seed", \.int)
    }
}

/// How a file's records become Tailor's fields: its format and renamed fields (theirs → ours).
public struct RecordFormat: Sendable {
    public var format: String
    /// `fields:` of the spec: Tailor's field name → the file's.
    public var fields: [String: String]

    init(_ p: Params) throws {
        format = try p.required("format", \.string)
        fields = Dictionary((p["fields"]?.entries ?? []).compactMap { k, v in v.string.map { (k, $0) } }, uniquingKeysWith: { a, _ in a })
    }
}

/// data.load: one file of the user's (the file itself is the node's, by digest).
public struct DataLoadParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataLoad]
    public static var version: Int { 3 }  // 2: records read in their layout, chat turns as {role, content}; 3: a question keeps its id, a document's title leads its text
    public var records: RecordFormat
    public init(_ p: Params) throws { records = try RecordFormat(p) }
}

/// data.folder: each file of a folder as one document `{id, text}` (format `documents`, or `text`).
public struct DataFolderParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataFolder]
    public var format: String
    public init(_ p: Params) throws { format = try p.required("format", \.string) }
}

/// data.command: the user's program, whose output file is read like a data file.
public struct DataCommandParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataCommand]
    public static var version: Int { 3 }  // 2: the output read as data.load 2 reads files; 3: as data.load 3
    public var run: [String]
    public var shell: Bool
    public var output: String
    /// `params:` passed as `TAILOR_PARAM_<NAME>` environment variables, as text.
    public var environment: [(name: String, value: String)]
    public var records: RecordFormat

    public init(_ p: Params) throws {
        run = try p.required("run", \.strings)
        shell = try p.required("shell", \.bool)
        output = try p.required("output", \.string)
        environment = (p["params"]?.entries ?? []).map { ($0, $1.string ?? $1.display) }
        records = try RecordFormat(p)
    }
}

/// data.split: named parts by fraction, in port-name order.
public struct DataSplitParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataSplit]
    public static var version: Int { 2 }  // 2: split by problem, repeats of a problem kept together
    /// (port, fraction of the whole), sorted by port name.
    public var parts: [(port: String, fraction: Double)]
    public var seed: Int

    public init(_ p: Params) throws {
        parts = try p.required("split", \.entries).map { ($0, $1.number ?? 0) }.sorted { $0.port < $1.port }
        seed = try p.required("seed", \.int)
    }
}

/// data.filter: records kept by length, content and uniqueness.
public struct DataFilterParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataFilter]
    public var minChars: Int?, maxChars: Int?
    public var contains: String?
    public var dedupe: Bool

    public init(_ p: Params) throws {
        let f = try p.required("filter")
        minChars = f.optional("min_chars", \.int)
        maxChars = f.optional("max_chars", \.int)
        contains = f.optional("contains", \.string)
        dedupe = try f.required("dedupe", \.bool)
    }
}

/// data.take: the first records.
public struct DataTakeParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataTake]
    public var take: Int
    public init(_ p: Params) throws { take = try p.required("take", \.int) }
}

/// data.mix: sources by weight.
public struct DataMixParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataMix]
    /// One weight per source, in the order of the node's inputs.
    public var weights: [Double]
    /// Records in the mix; nil: as many as the sources hold together.
    public var count: Int?
    public var seed: Int

    public init(_ p: Params) throws {
        weights = try p.required("weights") { $0.list?.compactMap(\.number) }
        count = p.optional("count", \.int)
        seed = try p.required("seed", \.int)
    }
}

/// data.template: everything it does comes from its inputs (the data and the prompt).
public struct DataTemplateParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataTemplate]
    public static var version: Int { 3 }  // 2: ChatML templates also keep the chat; 3: preference pairs stay pairs
    public init(_ p: Params) throws {}
}

/// data.sample: a model's own answers, `n` to each prompt.
public struct DataSampleParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataSample]
    public var n: Int
    public var temperature: Double
    public var topP: Double
    public var maxTokens: Int
    public var seed: Int

    public init(_ p: Params) throws {
        let s = try p.required("sample")
        n = try s.required("n", \.int)
        temperature = try s.required("temperature", \.number)
        topP = try s.required("top_p", \.number)
        maxTokens = try s.required("max_tokens", \.int)
        seed = try p.required("seed", \.int)
    }
}

/// data.label: preference pairs from sampled answers, by a metric against the reference or a pattern.
public struct DataLabelParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataLabel]
    /// `answer_check`, `exact_match` or `contains`; nil with a pattern.
    public var rule: String?
    public var pattern: String?

    public init(_ p: Params) throws {
        let l = try p.required("label")
        rule = l.optional("rule", \.string)
        pattern = l.optional("pattern", \.string)
        if rule == nil && pattern == nil { throw ParameterError(path: "label.rule") }
    }
}

/// data.tokenize: everything it does comes from its inputs (the data and the tokenizer).
public struct DataTokenizeParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dataTokenize]
    public static var version: Int { 4 }  // 2: chats through the model's own chat template; 3: preference pairs keep their rejected side;
    // 4: conversational pairs through the chat template, their answers alone as targets
    public init(_ p: Params) throws {}
}
