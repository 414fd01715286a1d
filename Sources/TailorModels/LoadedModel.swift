import Foundation
import TailorRuntime

/// A model opened from a path for use outside a spec: a GGUF file (a Llama decoder and
/// its byte-level BPE tokenizer) or a Hugging Face folder (a BERT encoder and its
/// WordPiece tokenizer).
public struct LoadedModel {
    public enum Network {
        case llama(Llama, BPETokenizer)
        case bert(Bert, WordPieceTokenizer)
    }

    public let path: String
    public let network: Network
    public let chatTemplate: ChatTemplate
    /// Seconds spent reading and dequantising the weights and the tokenizer.
    public let loadSeconds: Double

    public static func open(_ path: String) throws -> LoadedModel {
        let start = DispatchTime.now().uptimeNanoseconds
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ModelFileError(path, "does not exist") }
        let network: Network, template: ChatTemplate
        if isDirectory.boolValue {
            let folder = try HuggingFaceFolder(path: path)
            guard folder.modelType == "bert" else {
                throw ModelFileError(path, "holds a '\(folder.modelType ?? "unknown")' model; Tailor reads 'bert' from Hugging Face folders so far (Llama models from GGUF)")
            }
            network = .bert(try folder.bert(), try folder.wordPieceTokenizer())
            template = .plain
        } else {
            let gguf = try GGUFFile(path: path)
            let model = try gguf.llama()
            let tokenizer = try gguf.bpeTokenizer()
            guard tokenizer.count == model.config.vocab else {
                throw ModelFileError(path, "the tokenizer has \(tokenizer.count) tokens but the model's vocabulary is \(model.config.vocab)")
            }
            network = .llama(model, tokenizer)
            template = ChatTemplate(jinja: gguf.string("tokenizer.chat_template"))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedModel(path: path, network: network, chatTemplate: template, loadSeconds: seconds)
    }

    /// The decoder and its tokenizer, or an error saying this model is not one.
    public func decoder() throws -> (Llama, BPETokenizer) {
        guard case .llama(let model, let tokenizer) = network else { throw ModelFileError(path, "is an encoder: it cannot generate or score text") }
        return (model, tokenizer)
    }

    /// The encoder and its tokenizer, or an error saying this model is not one.
    public func encoder() throws -> (Bert, WordPieceTokenizer) {
        guard case .bert(let model, let tokenizer) = network else { throw ModelFileError(path, "is a decoder: `embed` needs a sentence encoder") }
        return (model, tokenizer)
    }
}
