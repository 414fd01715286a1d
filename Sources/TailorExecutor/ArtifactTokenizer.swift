import Foundation
import TailorModels

/// The tokenizer an artifact holds: byte-level BPE (decoders and encoders Tailor builds) or
/// WordPiece (BERT checkpoints such as MiniLM), told apart by the model type in its
/// `tokenizer.json`. Decoders need BPE; classification heads read either.
enum ArtifactTokenizer {
    case bpe(BPETokenizer)
    case wordPiece(WordPieceTokenizer)

    /// The files a tokenizer is kept in, copied along when a model artifact is rewritten.
    static let files = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]

    /// The artifact's `tokenizer.json`, read once, with the BOS and EOS its
    /// `tokenizer_config.json` names (end of text when it names none).
    static func load(_ artifact: Artifact) throws -> ArtifactTokenizer {
        let settings = FileManager.default.contents(atPath: artifact.path("tokenizer_config.json"))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        do {
            switch try TokenizerJSON.load(path: artifact.path("tokenizer.json"), bos: settings["bos_token"] as? String,
                                          eos: settings["eos_token"] as? String ?? Rendering.endOfText) {
            case .bpe(let t): return .bpe(t)
            case .wordPiece(let t): return .wordPiece(t)
            }
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    var count: Int {
        switch self {
        case .bpe(let t): t.count
        case .wordPiece(let t): t.count
        }
    }

    /// A text as a classification model reads it, at most `limit` ids: BPE text and end of
    /// text; WordPiece `[CLS] text [SEP]`, as BERT was trained.
    func classificationIDs(_ text: String, limit: Int) -> [Int32] {
        switch self {
        case .bpe(let t):
            let eos = t.eos.map { [$0] } ?? []
            let ids = Array((t.encode(text, specials: false) + eos).prefix(limit))
            return ids.isEmpty ? eos : ids
        case .wordPiece(let t):
            return t.encode(text, maxLength: Swift.max(2, limit))
        }
    }

    /// One token's text (a byte-level piece may be part of a character).
    func piece(_ id: Int32) -> String {
        switch self {
        case .bpe(let t): t.decode([id])
        case .wordPiece(let t): Int(id) < t.vocabulary.count && id >= 0 ? t.vocabulary[Int(id)] : "?"
        }
    }

    /// Copies the tokenizer files of `source` (an artifact or model folder) into `folder`.
    static func copyFiles(from source: String, to folder: String) throws {
        for name in files {
            let from = (source as NSString).appendingPathComponent(name), to = (folder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: from) else { continue }
            if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
    }
}
