import Foundation
import TailorRuntime

/// A model opened from a path for use outside a spec: a GGUF file (a Llama decoder and
/// its byte-level BPE tokenizer) or a Hugging Face folder (a GPT-2 or Llama decoder with its
/// `tokenizer.json`, or a BERT encoder with its WordPiece tokenizer).
public struct LoadedModel {
    public let path: String
    public let backbone: Backbone
    /// Nil for a decoder whose folder has no `tokenizer.json`.
    public let tokenizer: TextTokenizer?
    /// The model's own (Jinja) chat template text, kept for writing the model back out.
    public let chatTemplateSource: String?
    /// Seconds spent reading and dequantising the weights and the tokenizer.
    public let loadSeconds: Double
    /// The GGUF file a model came from, whose blocks serve it (`decoding()`).
    let gguf: GGUFFile?

    public static func open(_ path: String) throws -> LoadedModel {
        let start = DispatchTime.now().uptimeNanoseconds
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ModelFileError(path, "does not exist") }
        let backbone: Backbone, tokenizer: TextTokenizer?
        var jinja: String?, file: GGUFFile?
        if isDirectory.boolValue {
            let folder = try HuggingFaceFolder(path: path)
            switch folder.modelType {
            case "bert":
                (backbone, tokenizer) = (.encoder(try folder.bert()), .wordPiece(try folder.wordPieceTokenizer()))
            default:
                let model = try folder.causalLM()
                if let adaptable = model as? Adaptable { try AdapterFiles.load(from: path, into: adaptable) }
                let bpe = try folder.bpeTokenizer()
                if let bpe, bpe.count > model.vocab {
                    throw ModelFileError(path, "the tokenizer has \(bpe.count) tokens but the model's vocabulary is \(model.vocab)")
                }
                (backbone, tokenizer) = (.decoder(model), bpe.map { .bpe($0) })
                jinja = try folder.chatTemplate()
            }
        } else {
            let gguf = try GGUFFile(path: path)
            let model = try gguf.llama()
            let bpe = try gguf.bpeTokenizer()
            guard bpe.count == model.config.vocab else {
                throw ModelFileError(path, "the tokenizer has \(bpe.count) tokens but the model's vocabulary is \(model.config.vocab)")
            }
            (backbone, tokenizer) = (.decoder(model), .bpe(bpe))
            jinja = gguf.string("tokenizer.chat_template")
            file = gguf
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedModel(path: path, backbone: backbone, tokenizer: tokenizer, chatTemplateSource: jinja, loadSeconds: seconds, gguf: file)
    }

    /// How chats are written for this model: its own template (read when first needed, so a
    /// template this reader cannot parse fails only what writes chats), or plain.
    public func chatTemplate() throws -> ChatTemplate {
        let bpe = self.bpe
        return try ModelFileError.template(path) {
            try ChatTemplate(jinja: chatTemplateSource, bos: bpe?.bos.map { bpe!.vocabulary[Int($0)] }, eos: bpe?.eos.map { bpe!.vocabulary[Int($0)] })
        }
    }

    /// The byte-level BPE tokenizer, when the model has one.
    public var bpe: BPETokenizer? { if case .bpe(let t)? = tokenizer { t } else { nil } }

    /// The decoder and its tokenizer, or an error saying this model is not one or has none.
    public func decoder() throws -> (any CausalLM, BPETokenizer) {
        guard case .decoder(let model) = backbone else { throw ModelFileError(path, "is an encoder: it cannot generate or score text") }
        guard let bpe else { throw ModelFileError(path, "has no tokenizer.json: it cannot turn text into tokens") }
        return (model, bpe)
    }

    /// The decoder laid out for serving (`DecodingModel`) and its tokenizer: a GGUF model's linear
    /// weights as the file's blocks, any other's Float32 weights shared.
    public func decoding() throws -> (any DecodingModel, BPETokenizer) {
        let (model, bpe) = try decoder()
        return (try gguf?.decodingLlama() ?? decodingModel(model), bpe)
    }

    /// The encoder and its tokenizer, or an error saying this model is not one.
    public func encoder() throws -> (Bert, WordPieceTokenizer) {
        guard case .encoder(let model) = backbone, case .wordPiece(let wordPiece)? = tokenizer else {
            throw ModelFileError(path, "is a decoder: `embed` needs a sentence encoder")
        }
        return (model, wordPiece)
    }
}
