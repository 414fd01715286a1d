import Foundation
import TailorEngine
import TailorModels

/// Reading and copying the tokenizer files a model or tokenizer artifact holds.
enum ArtifactTokenizer {
    /// The files a tokenizer is kept in, copied along when a model artifact is rewritten.
    static let files = ["tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"]

    /// The artifact's `tokenizer.json`, read once, with the BOS and EOS its
    /// `tokenizer_config.json` names (end of text when it names none).
    static func load(_ artifact: Artifact) throws -> TextTokenizer {
        let settings = settings(artifact)
        do {
            return try TokenizerJSON.load(path: artifact.path("tokenizer.json"), bos: settings["bos_token"] as? String,
                                          eos: settings["eos_token"] as? String ?? Rendering.endOfText)
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// The model's own chat template as its artifact keeps it (`chat_template` of
    /// `tokenizer_config.json`, the one text Tailor writes there when loading a model), nil for a
    /// model without one.
    static func chatTemplateSource(_ artifact: Artifact) -> String? {
        settings(artifact)["chat_template"] as? String
    }

    /// The chat template a model or tokenizer artifact writes chats with, its BOS and EOS
    /// from the same settings; nil without one.
    static func chatTemplate(_ artifact: Artifact) throws -> ChatTemplate? {
        let s = settings(artifact)
        guard let source = s["chat_template"] as? String else { return nil }
        do {
            return try ChatTemplate(jinja: source, bos: s["bos_token"] as? String, eos: s["eos_token"] as? String)
        } catch {
            throw ExecutionError.chatTemplate(artifact.key, error)
        }
    }

    /// An artifact's chat template, read when a chat first needs it: data without chats does
    /// not depend on the template, so one this reader cannot parse fails only chats.
    struct LazyChatTemplate {
        let artifact: Artifact
        private var read: ChatTemplate??

        init(_ artifact: Artifact) { self.artifact = artifact }

        /// The template, nil for a model without one.
        mutating func get() throws -> ChatTemplate? {
            if read == nil { read = .some(try ArtifactTokenizer.chatTemplate(artifact)) }
            return read!
        }
    }

    static func settings(_ artifact: Artifact) -> [String: Any] {
        FileManager.default.contents(atPath: artifact.path("tokenizer_config.json"))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
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
