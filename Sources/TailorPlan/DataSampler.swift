import Foundation
import TailorData
import TailorDiagnostics
import TailorModels

/// A few records of each dataset, read while planning so that estimates know how long the
/// examples are (a batch is as wide as its longest example, not the model's context):
/// a generator's first records (the very ones the run makes; for `questions`, questions about
/// the documents' sample), the first records of a JSON Lines
/// or JSON file read as the run reads them; splits, takes, filters and mixes pass their sources'
/// records on, and templates fill theirs as the run does. Folders, commands and CSV files give
/// none, and estimates then take rows as long as the context allows. Weights are never read.
final class DataSampler {
    /// Records per sample: enough for a mean and a batch maximum, cheap to read and tokenize.
    static let size = 64

    /// By node content key, so sweep variants that share a data node share its sample.
    private var samples: [String: [[String: Any]]?] = [:]
    /// Tokenizers by file path; nil where the file has none that planning can read.
    private var tokenizers: [String: BPETokenizer?] = [:]
    /// Record counts by file path, so sweep variants count a file once.
    private var counts: [String: Int?] = [:]
    /// Token counts by the content keys of the data, tokenizer and prompt nodes they come from.
    var lengths: [[String]: TokenLengths?] = [:]

    /// The records in a data file (`recordCount`), counted once per plan.
    func rows(ofFile path: String) -> Int? {
        if let known = counts[path] { return known }
        let counted = Self.recordCount(path)
        counts[path] = counted
        return counted
    }

    /// The sampled records of a data node, or nil where its kind or its files give none.
    func records(_ node: PlanNode, planned: (String) -> PlanNode?, resolve: (String) -> String) -> [[String: Any]]? {
        if let known = samples[node.key] { return known }
        let made = sample(node, planned: planned, resolve: resolve)
        samples[node.key] = made
        return made
    }

    private func sample(_ node: PlanNode, planned: (String) -> PlanNode?, resolve: (String) -> String) -> [[String: Any]]? {
        func source(_ input: PlanInput?) -> [[String: Any]]? {
            guard let input, let from = planned(input.node) else { return nil }
            return records(from, planned: planned, resolve: resolve)
        }
        switch node.kind {
        case .dataGenerate:
            guard let p = try? DataGenerateParameters(plan: node.params) else { return nil }
            let (count, seed) = (min(p.count, Self.size), UInt64(truncatingIfNeeded: p.seed))
            if p.generator == "questions" {
                // Questions about the sampled documents: others than the run asks, as long.
                return source(node.inputs.first { $0.role == .documents }).map { Generators.questions(count: count, documents: $0, seed: seed) }
            }
            guard Generators.implemented.contains(p.generator) else { return nil }
            return Generators.make(p.generator, count: count, options: p.options, seed: seed)
        case .dataLoad:
            guard let p = try? DataLoadParameters(plan: node.params), let file = node.files.first else { return nil }
            return Self.fileRecords(resolve(file), format: p.records.format, fields: p.records.fields)
        case .dataSplit, .dataFilter, .dataTake:
            return source(node.inputs.first)
        case .dataMix:
            // The sources' records in turn, so that every source is in the sample.
            let parts = node.inputs.compactMap { source($0) }
            let longest = parts.map(\.count).max() ?? 0
            let interleaved = (0..<longest).flatMap { i in parts.compactMap { i < $0.count ? $0[i] : nil } }
            return interleaved.isEmpty ? nil : Array(interleaved.prefix(Self.size))
        case .dataSample:
            // Before the model answers, the source's own answers stand in for its samples.
            return source(node.inputs.first { $0.role == .source })
        case .dataLabel:
            return source(node.inputs.first).map { records in
                records.map { r in
                    let answer = RecordText.parts(r)?.answer ?? ""
                    return ["prompt": r["prompt"] ?? "", "chosen": answer, "rejected": answer]
                }
            }
        case .dataTemplate:
            guard let records = source(node.inputs.first { $0.role == .source }),
                  let promptNode = node.inputs.first(where: { $0.role == .prompt }).flatMap({ planned($0.node) }),
                  let prompt = try? PromptParameters(plan: promptNode.params) else { return nil }
            let pool = promptNode.inputs.first.flatMap { source($0) } ?? []
            return records.map { r in
                let rendered = Self.render(prompt, r, pool: pool)
                if let chosen = RecordText.parts(r)?.answer, let rejected = RecordText.rejectedParts(r)?.answer {
                    return ["prompt": rendered, "chosen": chosen, "rejected": rejected]
                }
                return ["prompt": rendered, "response": RecordText.parts(r)?.answer ?? ""]
            }
        default:
            return nil
        }
    }

    /// The first records of a JSON Lines or JSON array file, through the reader the run uses;
    /// nil for other files, and for unreadable ones (the run reports those). A JSON Lines file
    /// is read only as far as its first records.
    static func fileRecords(_ path: String, format: String, fields: [String: String]) -> [[String: Any]]? {
        guard FileProbe.kind(path) == .file else { return nil }  // a FIFO or device would never end
        var raw: [[String: Any]] = []
        if path.hasSuffix(".jsonl") {
            lines(path) { line in
                if let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] { raw.append(object) }
                return raw.count < size
            }
        } else if path.hasSuffix(".json"), let data = FileManager.default.contents(atPath: path) {
            raw = ((try? JSONSerialization.jsonObject(with: data)) as? [Any] ?? []).prefix(size).compactMap { $0 as? [String: Any] }
        }
        var reader = RecordReader(format: format, fields: fields)
        let records = raw.enumerated().compactMap { reader.read($1, at: $0 + 1) }
        return records.isEmpty ? nil : records
    }

    /// Records in a JSON Lines file (its lines that are not blank) or a JSON array; nil for
    /// other files and unreadable ones.
    static func recordCount(_ path: String) -> Int? {
        guard FileProbe.kind(path) == .file else { return nil }
        if path.hasSuffix(".json") {
            return FileManager.default.contents(atPath: path).flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [Any] }?.count
        }
        guard path.hasSuffix(".jsonl") else { return nil }
        var count = 0
        guard lines(path, { _ in count += 1; return true }) else { return nil }
        return count
    }

    /// Calls `body` with each line of a file that is not blank, reading it in blocks (a file
    /// of gigabytes is never held whole), until `body` returns false. False if unreadable.
    @discardableResult
    static func lines(_ path: String, _ body: (Data) -> Bool) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        var pending = Data()
        func emit(_ line: Data) -> Bool {
            line.contains { $0 != 32 && $0 != 9 && $0 != 13 } ? body(line) : true
        }
        while let block = try? handle.read(upToCount: 1 << 20), !block.isEmpty {
            pending.append(block)
            var start = pending.startIndex
            while let end = pending[start...].firstIndex(of: 10) {
                guard emit(pending[start..<end]) else { return true }
                start = pending.index(after: end)
            }
            pending = Data(pending[start...])
        }
        if !pending.isEmpty { _ = emit(pending) }
        return true
    }

    /// A record's prompt as `data.template` writes it, to be counted in tokens (the run keeps
    /// a ChatML prompt's turns and the model's chat template wraps them; its markers are single
    /// special tokens either way). Few-shot examples are the pool's first `k`: the run draws
    /// them per record, which changes lengths, not their typical size.
    static func render(_ prompt: PromptParameters, _ record: [String: Any], pool: [[String: Any]]) -> String {
        let text = PromptText(template: prompt.template, system: prompt.system, style: prompt.style, chainOfThought: prompt.chainOfThought) { value in
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return text.render(record, shots: Array(pool.prefix(prompt.k)))
    }

    /// Token counts of sampled records under a tokenizer: the whole example and its context
    /// (the prompt part). `tokenizerFile` is the loaded tokenizer's or model's path; nil (bytes,
    /// or a tokenizer trained by the run, whose merges planning cannot know) counts UTF-8 bytes,
    /// which is exact for the bytes tokenizer and an upper bound for trained ones.
    func lengths(_ records: [[String: Any]], tokenizerFile: String?) -> TokenLengths? {
        let tokenizer = tokenizerFile.flatMap { loadTokenizer($0) }
        var lengths = TokenLengths()
        for record in records {
            guard let (context, answer) = RecordText.parts(record) else { continue }
            let count: (String) -> Int = { text in tokenizer.map { $0.encode(text).count } ?? text.utf8.count }
            let c = context.isEmpty ? 0 : count(context)
            lengths.context.append(c)
            lengths.total.append(c + count(answer) + 1)  // + end of text
        }
        return lengths.total.isEmpty ? nil : lengths
    }

    private func loadTokenizer(_ path: String) -> BPETokenizer? {
        if let known = tokenizers[path] { return known }
        let loaded: BPETokenizer? = path.hasSuffix(".gguf")
            ? (try? GGUFFile(path: path).bpeTokenizer())
            : (try? HuggingFaceFolder(path: path).bpeTokenizer()) ?? nil
        tokenizers[path] = loaded
        return loaded
    }
}

/// Tokens per sampled example, for estimates.
public struct TokenLengths: Sendable, Hashable {
    /// Each example's tokens (context, answer and end of text).
    public var total: [Int] = []
    /// Each example's context (prompt) tokens.
    public var context: [Int] = []

    public var mean: Double { Double(total.reduce(0, +)) / Double(max(1, total.count)) }
    public var longest: Int { total.max() ?? 0 }

    /// The mean width of a right-padded batch of `size` examples (its longest), over the
    /// sample's consecutive batches; `of` picks whole examples or their contexts.
    public func batchWidth(_ size: Int, of lengths: KeyPath<TokenLengths, [Int]> = \.total) -> Double {
        let values = self[keyPath: lengths]
        guard !values.isEmpty else { return 0 }
        let widths = stride(from: 0, to: values.count, by: max(1, size)).map { values[$0..<min(values.count, $0 + max(1, size))].max()! }
        return Double(widths.reduce(0, +)) / Double(widths.count)
    }
}
