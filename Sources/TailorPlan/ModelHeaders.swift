import Foundation
import TailorDiagnostics
import TailorModels
import TailorSpec

/// Loaded models' headers for the checker and the estimates: a GGUF file's metadata (through
/// the models module's reader, which maps the file and parses its header and tensor table, not
/// the weights), or a Hugging Face folder's `config.json`.
public enum ModelHeaders {
    public static let read: ModelHeaderReader = { path in
        path.hasSuffix(".gguf") ? gguf(path) : folder(path)
    }

    static func gguf(_ path: String) -> ModelHeader? {
        guard let config = try? GGUFFile(path: path).llamaConfig(), let arch = Architecture.named("llama") else { return nil }
        return ModelHeader(arch: arch, dims: Dimensions(
            layers: config.layers, width: config.width, heads: config.heads, kvHeads: config.kvHeads, context: config.context,
            mlp: config.ffn, vocab: config.vocab, tiedHead: config.tiedHead))
    }

    /// `config.json`'s names for GPT-2, Llama-like (Mistral, Qwen2) and BERT models.
    static func folder(_ path: String) -> ModelHeader? {
        guard let data = try? FileProbe.read(path + "/config.json"),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        func int(_ keys: String...) -> Int? { keys.lazy.compactMap { json[$0] as? Int }.first }
        let type = (json["model_type"] as? String) ?? ""
        let name = type == "llama" || type == "mistral" || type == "qwen2" ? "llama" : type == "bert" ? "bert" : "gpt2"
        guard let arch = Architecture.named(name), let width = int("hidden_size", "n_embd"), let layers = int("num_hidden_layers", "n_layer"),
              let heads = int("num_attention_heads", "n_head") else { return nil }
        return ModelHeader(arch: arch, dims: Dimensions(
            layers: layers, width: width, heads: heads, kvHeads: int("num_key_value_heads") ?? heads,
            context: int("max_position_embeddings", "n_positions") ?? 2048,
            mlp: int("intermediate_size", "n_inner") ?? 4 * width, vocab: int("vocab_size"),
            tiedHead: (json["tie_word_embeddings"] as? Bool) ?? (name != "llama")))
    }
}
