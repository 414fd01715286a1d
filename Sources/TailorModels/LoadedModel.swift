import Foundation
import TailorRuntime

/// A model opened from a path for use outside a spec: today a GGUF file with a Llama
/// model and its byte-level BPE tokenizer.
public struct LoadedModel {
    public let path: String
    public let gguf: GGUFFile
    public let model: Llama
    public let tokenizer: BPETokenizer
    public let chatTemplate: ChatTemplate
    /// Seconds spent reading and dequantising the weights.
    public let loadSeconds: Double

    public static func open(_ path: String) throws -> LoadedModel {
        guard path.hasSuffix(".gguf") else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw ModelFileError(path, exists ? "is not a GGUF file (a .gguf path); Hugging Face folders are not supported yet" : "does not exist")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let gguf = try GGUFFile(path: path)
        let model = try gguf.llama()
        let tokenizer = try gguf.bpeTokenizer()
        guard tokenizer.count == model.config.vocab else {
            throw ModelFileError(path, "the tokenizer has \(tokenizer.count) tokens but the model's vocabulary is \(model.config.vocab)")
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedModel(path: path, gguf: gguf, model: model, tokenizer: tokenizer,
                           chatTemplate: ChatTemplate(jinja: gguf.string("tokenizer.chat_template")), loadSeconds: seconds)
    }
}
