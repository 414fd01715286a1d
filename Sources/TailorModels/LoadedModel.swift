import Foundation
import TailorRuntime

/// A model opened from a path for use outside a spec: a GGUF file (a Llama decoder and
/// its byte-level BPE tokenizer) or a Hugging Face folder (a GPT-2 or Llama decoder with its
/// `tokenizer.json`, or a BERT encoder with its WordPiece tokenizer).
public struct LoadedModel {
    public enum Network {
        /// A decoder; its tokenizer is nil when the folder has none.
        case decoder(any CausalLM, BPETokenizer?)
        case bert(Bert, WordPieceTokenizer)
    }

    public let path: String
    public let network: Network
    public let chatTemplate: ChatTemplate
    /// The model's own (Jinja) chat template text, kept for writing the model back out.
    public let chatTemplateSource: String?
    /// Seconds spent reading and dequantising the weights and the tokenizer.
    public let loadSeconds: Double

    public static func open(_ path: String) throws -> LoadedModel {
        let start = DispatchTime.now().uptimeNanoseconds
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ModelFileError(path, "does not exist") }
        let network: Network, template: ChatTemplate
        var jinja: String?
        if isDirectory.boolValue {
            let folder = try HuggingFaceFolder(path: path)
            switch folder.modelType {
            case "bert":
                network = .bert(try folder.bert(), try folder.wordPieceTokenizer())
                template = .plain
            default:
                let model = try folder.causalLM()
                if let adaptable = model as? Adaptable { try AdapterFiles.load(from: path, into: adaptable) }
                let tokenizer = try folder.bpeTokenizer()
                if let tokenizer, tokenizer.count > model.vocab {
                    throw ModelFileError(path, "the tokenizer has \(tokenizer.count) tokens but the model's vocabulary is \(model.vocab)")
                }
                network = .decoder(model, tokenizer)
                jinja = folder.chatTemplate
                template = ChatTemplate(jinja: jinja)
            }
        } else {
            let gguf = try GGUFFile(path: path)
            let model = try gguf.llama()
            let tokenizer = try gguf.bpeTokenizer()
            guard tokenizer.count == model.config.vocab else {
                throw ModelFileError(path, "the tokenizer has \(tokenizer.count) tokens but the model's vocabulary is \(model.config.vocab)")
            }
            network = .decoder(model, tokenizer)
            jinja = gguf.string("tokenizer.chat_template")
            template = ChatTemplate(jinja: jinja)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedModel(path: path, network: network, chatTemplate: template, chatTemplateSource: jinja, loadSeconds: seconds)
    }

    /// The decoder and its tokenizer, or an error saying this model is not one or has none.
    public func decoder() throws -> (any CausalLM, BPETokenizer) {
        guard case .decoder(let model, let tokenizer) = network else { throw ModelFileError(path, "is an encoder: it cannot generate or score text") }
        guard let tokenizer else { throw ModelFileError(path, "has no tokenizer.json: it cannot turn text into tokens") }
        return (model, tokenizer)
    }

    /// The encoder and its tokenizer, or an error saying this model is not one.
    public func encoder() throws -> (Bert, WordPieceTokenizer) {
        guard case .bert(let model, let tokenizer) = network else { throw ModelFileError(path, "is a decoder: `embed` needs a sentence encoder") }
        return (model, tokenizer)
    }
}
