import Foundation
import TailorDiagnostics

/// Hugging Face `tokenizer.json` for byte-level BPE: the `BPE` model (vocab and merges,
/// merges as "a b" strings or [a, b] pairs), a `ByteLevel` pre-tokenizer (optionally after
/// `Digits`), and added tokens, which are matched whole.
public enum TokenizerJSON {
    /// Reads a `tokenizer.json` once and builds the tokenizer its model type names.
    public static func load(path: String, bos: String? = nil, eos: String? = nil) throws -> TextTokenizer {
        let (root, model) = try parse(path)
        if model["type"] as? String == "WordPiece" { return .wordPiece(try WordPieceTokenizer(root: root, model: model, source: path)) }
        return .bpe(try bpe(root: root, model: model, path: path, bos: bos, eos: eos))
    }

    public static func bpe(path: String, bos: String? = nil, eos: String? = nil) throws -> BPETokenizer {
        let (root, model) = try parse(path)
        return try bpe(root: root, model: model, path: path, bos: bos, eos: eos)
    }

    /// The file's JSON and its `model` object.
    static func parse(_ path: String) throws -> (root: [String: Any], model: [String: Any]) {
        let data = try ModelFileError.reading(path) { try FileProbe.read(path) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw ModelFileError(path, "is not a tokenizer.json (no model)")
        }
        return (root, model)
    }

    static func bpe(root: [String: Any], model: [String: Any], path: String, bos: String?, eos: String?) throws -> BPETokenizer {
        guard model["type"] as? String == "BPE", let vocab = model["vocab"] as? [String: Int] else {
            throw ModelFileError(path, "holds a '\(model["type"] ?? "?")' model; byte-level BPE is expected here")
        }
        var merges: [(String, String)] = []
        for (n, item) in (model["merges"] as? [Any] ?? []).enumerated() {
            if let line = item as? String, let space = line.firstIndex(of: " ") {
                merges.append((String(line[..<space]), String(line[line.index(after: space)...])))
            } else if let pair = item as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw ModelFileError(path, "merge \(n + 1) is neither \"a b\" nor [a, b]")
            }
        }
        var added: [String: Int] = [:]
        for case let entry as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            if let content = entry["content"] as? String, let id = entry["id"] as? Int { added[content] = id }
        }
        let size = try idTableSize(Array(vocab.values) + Array(added.values), entries: vocab.count + added.count, path: path)
        let specials = added.mapValues { Int32($0) }  // every id < size, which fits in Int32
        var tokens = [String](repeating: "", count: size)
        for (token, id) in vocab { tokens[id] = token }
        for (token, id) in added { tokens[id] = token }
        let pre = try preTokenizer(root["pre_tokenizer"] as? [String: Any], path: path)
        let lookup = { (name: String?) -> Int32? in name.flatMap { specials[$0] ?? vocab[$0].map(Int32.init) } }
        return try BPETokenizer(vocabulary: tokens, merges: merges, specialTokens: specials, preTokenizer: pre,
                                bos: lookup(bos), eos: lookup(eos ?? (specials["<|endoftext|>"] != nil ? "<|endoftext|>" : nil)),
                                unknown: lookup(model["unk_token"] as? String), source: path)
    }

    /// The length of the token table that `ids` index. Real files number their tokens densely;
    /// a negative id, or one far beyond the number of entries, is malformed and refused before
    /// anything is allocated for it (a file cannot make Tailor reserve more than it holds).
    static func idTableSize(_ ids: [Int], entries: Int, path: String) throws -> Int {
        guard let top = ids.max() else { return 0 }
        guard let bottom = ids.min(), bottom >= 0, top < 4 * entries + 1024 else {
            throw ModelFileError(path, "has token ids from \(ids.min() ?? 0) to \(top) for \(entries) tokens: ids must be 0 or more and close to the number of tokens")
        }
        return top + 1
    }

    static func preTokenizer(_ json: [String: Any]?, path: String) throws -> PreTokenizer {
        let type = json?["type"] as? String
        if type == "ByteLevel" { return .gpt2 }
        if type == "Sequence", let steps = json?["pretokenizers"] as? [[String: Any]] {
            let kinds = steps.compactMap { $0["type"] as? String }
            if kinds == ["ByteLevel"] { return .gpt2 }
            if kinds == ["Digits", "ByteLevel"], steps[0]["individual_digits"] as? Bool == true { return .digitsThenGPT2 }
        }
        throw ModelFileError(path, "has a pre-tokenizer Tailor does not know (\(type ?? "none")); known: ByteLevel, and Digits then ByteLevel")
    }

    /// The tokenizer as a `tokenizer.json` that the `tokenizers` library reads.
    public static func data(_ t: BPETokenizer) throws -> Data {
        // Added tokens stay in the vocabulary too, as the tokenizers library writes them:
        // transformers otherwise appends them again under new ids.
        var vocab: [String: Int] = [:]
        for (i, token) in t.vocabulary.enumerated() where vocab[token] == nil { vocab[token] = i }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let pre: [String: Any] = t.preTokenizer == .gpt2 ? byteLevel : [
            "type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel],
        ]
        let added = t.specialTokens.sorted { $0.value < $1.value }.map { content, id -> [String: Any] in
            ["id": Int(id), "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true]
        }
        let json: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added, "normalizer": NSNull(),
            "pre_tokenizer": pre, "post_processor": byteLevel, "decoder": byteLevel,
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": t.mergeList.map { [$0.0, $0.1] }] as [String: Any],
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
    }
}
