import Foundation
import TailorDiagnostics

/// BERT's tokenizer: normalise (drop control characters, lower-case and strip accents, put
/// spaces around CJK ideographs), split on whitespace and punctuation, then cut each word
/// into the longest vocabulary pieces from the left, continuations prefixed with "##". A word
/// with an unmatched remainder, or longer than `maxWordLength` characters, is `[UNK]`.
/// Encodings are wrapped as `[CLS] … [SEP]`.
public final class WordPieceTokenizer: @unchecked Sendable {
    public let vocabulary: [String]
    public let lowercase: Bool
    public let stripAccents: Bool
    public let maxWordLength: Int
    public let continuationPrefix: String
    public let unknown: Int32, cls: Int32, sep: Int32, pad: Int32
    let ids: [String: Int32]
    /// BERT's special tokens, matched whole in the text before normalisation.
    let specials: [(String, Int32)]

    public init(vocabulary: [String], lowercase: Bool = true, stripAccents: Bool? = nil, maxWordLength: Int = 100,
                continuationPrefix: String = "##", source: String) throws {
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        // Hugging Face's rule: unset means "strip when lower-casing".
        self.stripAccents = stripAccents ?? lowercase
        self.maxWordLength = maxWordLength
        self.continuationPrefix = continuationPrefix
        var ids: [String: Int32] = [:]
        for (i, token) in vocabulary.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
        self.ids = ids
        func special(_ name: String) throws -> Int32 {
            guard let id = ids[name] else { throw ModelFileError(source, "the WordPiece vocabulary has no \(name) token") }
            return id
        }
        unknown = try special("[UNK]")
        cls = try special("[CLS]")
        sep = try special("[SEP]")
        pad = ids["[PAD]"] ?? 0
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { name in ids[name].map { (name, $0) } }
    }

    /// A `vocab.txt`: one token per line, the line number is the id.
    public convenience init(vocabFile path: String, lowercase: Bool = true) throws {
        let data = try ModelFileError.reading(path) { try FileProbe.read(path) }
        guard let text = String(data: data, encoding: .utf8) else { throw ModelFileError(path, "is not UTF-8 text") }
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        try self.init(vocabulary: lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }, lowercase: lowercase, source: path)
    }

    /// A Hugging Face `tokenizer.json` whose model is WordPiece (vocabulary, normaliser flags).
    public convenience init(tokenizerJSON json: String) throws {
        let (root, model) = try TokenizerJSON.parse(json)
        try self.init(root: root, model: model, source: json)
    }

    /// From a parsed `tokenizer.json` (`root`) and its `model` object.
    convenience init(root: [String: Any], model: [String: Any], source json: String) throws {
        guard model["type"] as? String == "WordPiece", let vocab = model["vocab"] as? [String: Int] else {
            throw ModelFileError(json, "holds a '\(model["type"] ?? "?")' model, not WordPiece")
        }
        let size = try TokenizerJSON.idTableSize(Array(vocab.values), entries: vocab.count, path: json)
        guard size > 0 else { throw ModelFileError(json, "has an empty WordPiece vocabulary") }
        var tokens = [String](repeating: "", count: size)
        for (token, id) in vocab { tokens[id] = token }
        let normalizer = root["normalizer"] as? [String: Any]
        try self.init(
            vocabulary: tokens, lowercase: normalizer?["lowercase"] as? Bool ?? true, stripAccents: normalizer?["strip_accents"] as? Bool,
            maxWordLength: model["max_input_chars_per_word"] as? Int ?? 100,
            continuationPrefix: model["continuing_subword_prefix"] as? String ?? "##", source: json)
    }

    public var count: Int { vocabulary.count }

    /// `[CLS] text [SEP]`, truncated to `maxLength` ids (the `[SEP]` kept). Special tokens
    /// written in the text (`[MASK]`, exact case) become their ids.
    public func encode(_ text: String, maxLength: Int = 512) -> [Int32] {
        var out: [Int32] = [cls]
        var rest = Substring(text)
        while !rest.isEmpty, out.count < maxLength - 1 {
            // The earliest special token in what is left (the longest at a tie).
            let next = specials.compactMap { token, id in rest.range(of: token).map { ($0, id) } }
                .min { $0.0.lowerBound != $1.0.lowerBound ? $0.0.lowerBound < $1.0.lowerBound : $0.0.upperBound > $1.0.upperBound }
            let plain = next.map { rest[..<$0.0.lowerBound] } ?? rest
            for word in words(String(plain)) {
                out += pieces(word)
                if out.count >= maxLength - 1 { break }
            }
            guard let (range, id) = next else { break }
            out.append(id)
            rest = rest[range.upperBound...]
        }
        if out.count > maxLength - 1 { out.removeLast(out.count - (maxLength - 1)) }
        return out + [sep]
    }

    /// Text of the ids without special tokens, continuations joined to their word.
    public func decode(_ ids: [Int32]) -> String {
        var text = ""
        for id in ids where id >= 0 && Int(id) < vocabulary.count && ![cls, sep, pad].contains(id) {
            let token = vocabulary[Int(id)]
            if token.hasPrefix(continuationPrefix) { text += token.dropFirst(continuationPrefix.count) } else { text += (text.isEmpty ? "" : " ") + token }
        }
        return text
    }

    /// Normalised words and punctuation marks, in order.
    func words(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        func flush() {
            if !current.isEmpty { words.append(current) }
            current = []
        }
        for c in normalise(text) {
            if c.properties.isWhitespace {
                flush()
            } else if WordPieceTokenizer.isPunctuation(c) || WordPieceTokenizer.isCJK(c) {
                flush()
                words.append([c])
            } else {
                current.append(c)
            }
        }
        flush()
        return words
    }

    /// Control characters dropped, whitespace unified, lower case, accents stripped (NFD, then
    /// combining marks removed).
    func normalise(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        for c in text.unicodeScalars {
            if c.value == 0 || c.value == 0xFFFD { continue }
            let category = c.properties.generalCategory
            if c == "\t" || c == "\n" || c == "\r" || category == .spaceSeparator {
                out.append(" ")
                continue
            }
            if category == .control || category == .format { continue }
            out.append(c)
        }
        var text = String(String.UnicodeScalarView(out))
        if lowercase { text = text.lowercased() }
        if stripAccents {
            return text.decomposedStringWithCanonicalMapping.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        return Array(text.unicodeScalars)
    }

    /// Greedy longest-match-first pieces of one word.
    func pieces(_ word: [Unicode.Scalar]) -> [Int32] {
        if word.count > maxWordLength { return [unknown] }
        var out: [Int32] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int32?
            while start < end {
                var piece = String(String.UnicodeScalarView(word[start..<end]))
                if start > 0 { piece = continuationPrefix + piece }
                if let id = ids[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else { return [unknown] }
            out.append(found)
            start = end
        }
        return out
    }

    /// BERT's punctuation: ASCII symbols and every Unicode punctuation category.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    /// CJK ideographs, which BERT treats as words of their own.
    static func isCJK(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
