/// A model's tokenizer, whichever kind its files hold: byte-level BPE (decoders, and encoders
/// Tailor builds) or WordPiece (BERT checkpoints such as MiniLM). Decoders need BPE; encoders
/// and classification heads read either.
public enum TextTokenizer: Sendable {
    case bpe(BPETokenizer)
    case wordPiece(WordPieceTokenizer)

    public var count: Int {
        switch self {
        case .bpe(let t): t.count
        case .wordPiece(let t): t.count
        }
    }

    /// A text as a classification model reads it, at most `limit` ids: BPE text and end of
    /// text; WordPiece `[CLS] text [SEP]`, as BERT was trained.
    public func classificationIDs(_ text: String, limit: Int) -> [Int32] {
        switch self {
        case .bpe(let t):
            let eos = t.eos.map { [$0] } ?? []
            let ids = Array((t.encode(text, specials: false) + eos).prefix(limit))
            return ids.isEmpty ? eos : ids
        case .wordPiece(let t):
            return t.encode(text, maxLength: Swift.max(2, limit))
        }
    }

    /// How many tokens `text` is, without the special tokens a model's input adds.
    public func count(_ text: String) -> Int {
        switch self {
        case .bpe(let t): t.encode(text, specials: false).count
        case .wordPiece(let t): t.encode(text, maxLength: Int.max).count - 2  // less [CLS] and [SEP]
        }
    }

    /// One token's text (a byte-level piece may be part of a character).
    public func piece(_ id: Int32) -> String {
        switch self {
        case .bpe(let t): t.decode([id])
        case .wordPiece(let t): Int(id) < t.vocabulary.count && id >= 0 ? t.vocabulary[Int(id)] : "?"
        }
    }
}
