import Foundation
import TailorDiagnostics
import TailorRuntime

/// A Hugging Face model folder: `config.json`, weights in `model.safetensors` (or shards
/// listed by `model.safetensors.index.json`), and `tokenizer.json` / `vocab.txt`.
public struct HuggingFaceFolder {
    public let path: String
    public let config: [String: Any]

    public init(path: String) throws {
        self.path = path
        let configPath = (path as NSString).appendingPathComponent("config.json")
        guard let config = try ModelFileError.jsonObject(configPath) else {
            throw ModelFileError(path, "is not a Hugging Face model folder (it has no config.json)")
        }
        self.config = config
    }

    public var modelType: String? { config["model_type"] as? String }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// A dimension from `config.json`: positive, and below 2³¹ so that the shapes built from
    /// it (`4 * width`, `vocab * width`) cannot overflow; the weights then have to match it.
    func int(_ key: String) throws -> Int {
        guard let v = config[key] as? Int, v > 0 else { throw ModelFileError(file("config.json"), "lacks \(key) (or it is not a positive integer)") }
        guard v < 1 << 31 else { throw ModelFileError(file("config.json"), "\(key) is \(v); dimensions must be below 2^31") }
        return v
    }

    /// Every weight, by its Hugging Face name (a leading `bert.` or `model.` prefix kept).
    public func weights() throws -> [String: Tensor] {
        let single = file("model.safetensors"), index = file("model.safetensors.index.json")
        if FileProbe.kind(single) != .missing { return try readSafetensors(single) }
        guard let json = try ModelFileError.jsonObject(index) else {
            throw ModelFileError(path, "has neither model.safetensors nor model.safetensors.index.json")
        }
        guard let map = json["weight_map"] as? [String: String] else {
            throw ModelFileError(index, "has no weight_map")
        }
        var all: [String: Tensor] = [:]
        for shard in Set(map.values).sorted() {
            guard !shard.contains("/") else { throw ModelFileError(index, "names a shard outside the folder: \(shard)") }
            for (name, t) in try readSafetensors(file(shard)) { all[name] = t }
        }
        for name in map.keys where all[name] == nil { throw ModelFileError(index, "lists '\(name)' but no shard holds it") }
        return all
    }

    func readSafetensors(_ file: String) throws -> [String: Tensor] {
        do {
            return try Safetensors.read(path: file).tensors
        } catch let error as SafetensorsError {
            throw ModelFileError(file, error.description)
        }
    }

    /// A BERT encoder (`model_type: bert`), with or without the `bert.` name prefix.
    public func bert() throws -> Bert {
        let config = BertConfig(
            vocab: try int("vocab_size"), width: try int("hidden_size"), layers: try int("num_hidden_layers"),
            heads: try int("num_attention_heads"), ffn: try int("intermediate_size"),
            maxPositions: try int("max_position_embeddings"), typeVocab: (self.config["type_vocab_size"] as? Int) ?? 2,
            normEps: Float((self.config["layer_norm_eps"] as? Double) ?? 1e-12))
        guard config.width % config.heads == 0 else { throw ModelFileError(file("config.json"), "hidden_size is not a multiple of the heads") }
        if let act = self.config["hidden_act"] as? String, act != "gelu" {
            throw ModelFileError(file("config.json"), "hidden_act '\(act)' is not supported for BERT (gelu is)")
        }
        let w = try weights()
        let prefix = w["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func load(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let t = w[prefix + name] else { throw ModelFileError(path, "has no weight '\(prefix + name)'") }
            guard t.shape == shape else { throw ModelFileError(path, "weight '\(prefix + name)' has shape \(t.shape), expected \(shape)") }
            return t
        }
        func linear(_ name: String, in i: Int, out o: Int) throws -> Linear {
            Linear(weight: try load(name + ".weight", [o, i]).transposed(), bias: try load(name + ".bias", [o]))
        }
        func norm(_ name: String) throws -> LayerNorm {
            LayerNorm(weight: try load(name + ".weight", [config.width]), bias: try load(name + ".bias", [config.width]), eps: config.normEps)
        }
        let (c, f) = (config.width, config.ffn)
        let layers = try (0..<config.layers).map { i in
            let p = "encoder.layer.\(i)."
            return Bert.Layer(
                q: try linear(p + "attention.self.query", in: c, out: c), k: try linear(p + "attention.self.key", in: c, out: c),
                v: try linear(p + "attention.self.value", in: c, out: c), o: try linear(p + "attention.output.dense", in: c, out: c),
                attnNorm: try norm(p + "attention.output.LayerNorm"),
                up: try linear(p + "intermediate.dense", in: c, out: f), down: try linear(p + "output.dense", in: f, out: c),
                mlpNorm: try norm(p + "output.LayerNorm"))
        }
        return Bert(config: config, wordEmbed: try load("embeddings.word_embeddings.weight", [config.vocab, c]),
                    positionEmbed: try load("embeddings.position_embeddings.weight", [config.maxPositions, c]),
                    typeEmbed: try load("embeddings.token_type_embeddings.weight", [config.typeVocab, c]),
                    embedNorm: try norm("embeddings.LayerNorm"), layers: layers)
    }

    /// The byte-level BPE tokenizer of `tokenizer.json`, nil when the folder has none. BOS and
    /// EOS come from `tokenizer_config.json` (as strings or `{"content": …}`).
    public func bpeTokenizer() throws -> BPETokenizer? {
        let json = file("tokenizer.json")
        guard FileProbe.kind(json) != .missing else { return nil }
        let settings = try ModelFileError.jsonObject(file("tokenizer_config.json")) ?? [:]
        func token(_ key: String) -> String? { settings[key] as? String ?? (settings[key] as? [String: Any])?["content"] as? String }
        return try TokenizerJSON.bpe(path: json, bos: token("bos_token"), eos: token("eos_token"))
    }

    /// The folder's Jinja chat template: `chat_template.jinja` (where newer transformers save
    /// it), else `tokenizer_config.json`'s `chat_template`, a string or a list of named templates
    /// of which the one named `default` is the chat template. Nil where there is none; a
    /// template in a shape Tailor cannot read is an error, never a silent fallback to plain.
    public func chatTemplate() throws -> String? {
        let separate = file("chat_template.jinja")
        if FileProbe.kind(separate) != .missing {
            let data = try ModelFileError.reading(separate) { try FileProbe.read(separate) }
            guard let text = String(data: data, encoding: .utf8) else { throw ModelFileError(separate, "is not UTF-8 text") }
            return text
        }
        guard let value = try ModelFileError.jsonObject(file("tokenizer_config.json"))?["chat_template"] else { return nil }
        return try Self.template(value, in: file("tokenizer_config.json"))
    }

    /// A `chat_template` value: a string, or `[{"name", "template"}]` with a `default`.
    static func template(_ value: Any, in path: String) throws -> String? {
        if value is NSNull { return nil }
        if let text = value as? String { return text }
        if let named = value as? [[String: Any]] {
            guard let chosen = named.first(where: { $0["name"] as? String == "default" })?["template"] as? String else {
                throw ModelFileError(path, "has named chat templates (\(named.compactMap { $0["name"] as? String }.joined(separator: ", "))) but none named 'default'")
            }
            return chosen
        }
        throw ModelFileError(path, "has a chat_template that is neither text nor a list of named templates")
    }

    /// The WordPiece tokenizer of `tokenizer.json` (or `vocab.txt` when there is none).
    public func wordPieceTokenizer() throws -> WordPieceTokenizer {
        let json = file("tokenizer.json")
        guard FileProbe.kind(json) != .missing else { return try WordPieceTokenizer(vocabFile: file("vocab.txt")) }
        return try WordPieceTokenizer(tokenizerJSON: json)
    }
}
