import Foundation
import TailorRuntime

/// GPT-2 and Llama decoders in Hugging Face folders, read and written with Hugging Face's
/// names and layouts, so a model Tailor saves loads in `transformers` and back.
extension HuggingFaceFolder {
    /// The decoder this folder holds (`model_type` gpt2 or llama).
    public func causalLM() throws -> any CausalLM {
        switch modelType {
        case "gpt2": return try gpt2()
        case "llama": return try llama()
        default: throw ModelFileError(path, "holds a '\(modelType ?? "unknown")' model; Tailor reads gpt2 and llama decoders from Hugging Face folders")
        }
    }

    /// A weight by name with its expected shape (names may lack a `transformer.` / `model.` prefix).
    func weight(_ w: [String: Tensor], _ names: [String], _ shape: [Int]) throws -> Tensor {
        guard let name = names.first(where: { w[$0] != nil }), let t = w[name] else {
            throw ModelFileError(path, "has no weight '\(names[0])'")
        }
        guard t.shape == shape else { throw ModelFileError(path, "weight '\(name)' has shape \(t.shape), expected \(shape)") }
        return t
    }

    public func gpt2() throws -> GPT2 {
        let c = GPT2Config(vocab: try int("vocab_size"), context: try int("n_positions"), width: try int("n_embd"),
                           layers: try int("n_layer"), heads: try int("n_head"),
                           normEps: Float(config["layer_norm_epsilon"] as? Double ?? 1e-5))
        guard c.width % c.heads == 0 else { throw ModelFileError(file("config.json"), "n_embd is not a multiple of n_head") }
        if let act = config["activation_function"] as? String, !["gelu_new", "gelu_pytorch_tanh"].contains(act) {
            throw ModelFileError(file("config.json"), "activation_function '\(act)' is not supported (GPT-2's tanh GELU, gelu_new, is)")
        }
        let w = try weights()
        func get(_ name: String, _ shape: [Int]) throws -> Tensor { try weight(w, ["transformer." + name, name], shape) }
        // GPT-2's Conv1D keeps weights as (In, Out): the layout Tailor multiplies by.
        func linear(_ name: String, _ i: Int, _ o: Int) throws -> Linear {
            Linear(weight: try get(name + ".weight", [i, o]), bias: try get(name + ".bias", [o]))
        }
        func norm(_ name: String) throws -> LayerNorm {
            LayerNorm(weight: try get(name + ".weight", [c.width]), bias: try get(name + ".bias", [c.width]), eps: c.normEps)
        }
        let layers = try (0..<c.layers).map { i in
            let p = "h.\(i)."
            return GPT2.Layer(attnNorm: try norm(p + "ln_1"), qkv: try linear(p + "attn.c_attn", c.width, 3 * c.width),
                              o: try linear(p + "attn.c_proj", c.width, c.width), mlpNorm: try norm(p + "ln_2"),
                              up: try linear(p + "mlp.c_fc", c.width, 4 * c.width), down: try linear(p + "mlp.c_proj", 4 * c.width, c.width))
        }
        return GPT2(config: c, embed: try get("wte.weight", [c.vocab, c.width]), positions: try get("wpe.weight", [c.context, c.width]),
                    layers: layers, finalNorm: try norm("ln_f"))
    }

    public func llama() throws -> Llama {
        let width = try int("hidden_size"), heads = try int("num_attention_heads")
        let kvHeads = config["num_key_value_heads"] == nil ? heads : try int("num_key_value_heads")
        guard width % heads == 0, kvHeads > 0, heads % kvHeads == 0 else {
            throw ModelFileError(file("config.json"), "\(heads) heads of a width of \(width) cannot share \(kvHeads) key/value heads")
        }
        if let act = config["hidden_act"] as? String, act != "silu" {
            throw ModelFileError(file("config.json"), "hidden_act '\(act)' is not supported for Llama (silu is)")
        }
        let w = try weights()
        let tied = (config["tie_word_embeddings"] as? Bool ?? false) || w["lm_head.weight"] == nil
        let c = LlamaConfig(vocab: try int("vocab_size"), width: width, layers: try int("num_hidden_layers"), heads: heads, kvHeads: kvHeads,
                            ffn: try int("intermediate_size"), context: config["max_position_embeddings"] == nil ? 2048 : try int("max_position_embeddings"),
                            ropeBase: Float(config["rope_theta"] as? Double ?? 10_000), normEps: Float(config["rms_norm_eps"] as? Double ?? 1e-6),
                            tiedHead: tied, interleavedRotary: false)
        func get(_ name: String, _ shape: [Int]) throws -> Tensor { try weight(w, ["model." + name, name], shape) }
        // PyTorch's Linear keeps (Out, In): Tailor multiplies by its transposed view.
        func matrix(_ name: String, _ i: Int, _ o: Int) throws -> Tensor { try get(name + ".weight", [o, i]).transposed() }
        let kv = kvHeads * (width / heads)
        let layers = try (0..<c.layers).map { i in
            let p = "layers.\(i)."
            return Llama.Layer(
                attnNorm: try get(p + "input_layernorm.weight", [width]),
                q: try matrix(p + "self_attn.q_proj", width, width), k: try matrix(p + "self_attn.k_proj", width, kv),
                v: try matrix(p + "self_attn.v_proj", width, kv), o: try matrix(p + "self_attn.o_proj", width, width),
                mlpNorm: try get(p + "post_attention_layernorm.weight", [width]),
                gate: try matrix(p + "mlp.gate_proj", width, c.ffn), up: try matrix(p + "mlp.up_proj", width, c.ffn),
                down: try matrix(p + "mlp.down_proj", c.ffn, width))
        }
        let head = tied ? nil : try weight(w, ["lm_head.weight"], [c.vocab, width]).transposed()
        return Llama(config: c, embed: try get("embed_tokens.weight", [c.vocab, width]), layers: layers,
                     finalNorm: try get("norm.weight", [width]), head: head)
    }

    /// Writes `model` as a Hugging Face folder (config.json + model.safetensors), replacing
    /// `path` only once both files are complete.
    public static func save(_ model: GPT2, to path: String, tokenizer: BPETokenizer? = nil, chatTemplate: String? = nil, dtype: DType = .f32) throws {
        let c = model.config
        var tensors: [String: Tensor] = ["transformer.wte.weight": model.embed, "transformer.wpe.weight": model.positions,
                                         "transformer.ln_f.weight": model.finalNorm.weight, "transformer.ln_f.bias": model.finalNorm.bias]
        for (i, l) in model.layers.enumerated() {
            let p = "transformer.h.\(i)."
            for (name, norm) in [("ln_1", l.attnNorm), ("ln_2", l.mlpNorm)] {
                tensors[p + name + ".weight"] = norm.weight
                tensors[p + name + ".bias"] = norm.bias
            }
            for (name, linear) in [("attn.c_attn", l.qkv), ("attn.c_proj", l.o), ("mlp.c_fc", l.up), ("mlp.c_proj", l.down)] {
                tensors[p + name + ".weight"] = linear.weight
                tensors[p + name + ".bias"] = linear.bias ?? Tensor(zeros: [linear.weight.shape[1]])
            }
        }
        let config: [String: Any] = [
            "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": c.vocab, "n_positions": c.context,
            "n_ctx": c.context, "n_embd": c.width, "n_layer": c.layers, "n_head": c.heads, "layer_norm_epsilon": Double(c.normEps),
            "activation_function": "gelu_new", "tie_word_embeddings": true, "torch_dtype": "float32",
        ]
        try write(config: config, tensors: tensors, to: path, tokenizer: tokenizer, chatTemplate: chatTemplate, dtype: dtype)
    }

    /// Writes a Llama; Q and K weights in GGUF's interleaved rotary layout are permuted back
    /// to Hugging Face's halves layout on the way.
    public static func save(_ model: Llama, to path: String, tokenizer: BPETokenizer? = nil, chatTemplate: String? = nil, dtype: DType = .f32) throws {
        let c = model.config
        let d = c.headDim
        /// (Out, In) rows of each head from pairs (2i, 2i + 1) to halves (i, i + D/2).
        func halves(_ w: Tensor, heads: Int) -> Tensor {
            guard c.interleavedRotary else { return w }
            let inputs = w.shape[1]
            return Tensor.noGrad { w.reshaped([heads, d / 2, 2, inputs]).permuted([0, 2, 1, 3]).contiguous().reshaped([heads * d, inputs]) }
        }
        // Back to PyTorch's (Out, In) layout: the transposed view of an (In, Out) weight.
        var tensors: [String: Tensor] = ["model.embed_tokens.weight": model.embed, "model.norm.weight": model.finalNorm]
        if let head = model.head { tensors["lm_head.weight"] = head.transposed() }
        for (i, l) in model.layers.enumerated() {
            let p = "model.layers.\(i)."
            tensors[p + "input_layernorm.weight"] = l.attnNorm
            tensors[p + "post_attention_layernorm.weight"] = l.mlpNorm
            for (name, m) in [("self_attn.v_proj", l.v), ("self_attn.o_proj", l.o),
                              ("mlp.gate_proj", l.gate), ("mlp.up_proj", l.up), ("mlp.down_proj", l.down)] {
                tensors[p + name + ".weight"] = m.transposed()
            }
            tensors[p + "self_attn.q_proj.weight"] = halves(Tensor.noGrad { l.q.transposed().contiguous() }, heads: c.heads)
            tensors[p + "self_attn.k_proj.weight"] = halves(Tensor.noGrad { l.k.transposed().contiguous() }, heads: c.kvHeads)
        }
        let config: [String: Any] = [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": c.vocab, "hidden_size": c.width,
            "intermediate_size": c.ffn, "num_hidden_layers": c.layers, "num_attention_heads": c.heads,
            "num_key_value_heads": c.kvHeads, "max_position_embeddings": c.context, "rms_norm_eps": Double(c.normEps),
            "rope_theta": Double(c.ropeBase), "tie_word_embeddings": c.tiedHead, "hidden_act": "silu",
            "attention_bias": false, "mlp_bias": false, "torch_dtype": "float32",
        ]
        try write(config: config, tensors: tensors, to: path, tokenizer: tokenizer, chatTemplate: chatTemplate, dtype: dtype)
    }

    /// Writes a BERT encoder with Hugging Face's names ((Out, In) Linear weights).
    public static func save(_ model: Bert, to path: String, tokenizer: BPETokenizer? = nil) throws {
        let c = model.config
        var tensors: [String: Tensor] = [
            "embeddings.word_embeddings.weight": model.wordEmbed, "embeddings.position_embeddings.weight": model.positionEmbed,
            "embeddings.token_type_embeddings.weight": model.typeEmbed,
            "embeddings.LayerNorm.weight": model.embedNorm.weight, "embeddings.LayerNorm.bias": model.embedNorm.bias,
        ]
        for (i, l) in model.layers.enumerated() {
            let p = "encoder.layer.\(i)."
            for (name, linear) in [("attention.self.query", l.q), ("attention.self.key", l.k), ("attention.self.value", l.v),
                                   ("attention.output.dense", l.o), ("intermediate.dense", l.up), ("output.dense", l.down)] {
                tensors[p + name + ".weight"] = linear.weight.transposed()
                tensors[p + name + ".bias"] = linear.bias ?? Tensor(zeros: [linear.weight.shape[1]])
            }
            for (name, norm) in [("attention.output.LayerNorm", l.attnNorm), ("output.LayerNorm", l.mlpNorm)] {
                tensors[p + name + ".weight"] = norm.weight
                tensors[p + name + ".bias"] = norm.bias
            }
        }
        let config: [String: Any] = [
            "model_type": "bert", "architectures": ["BertModel"], "vocab_size": c.vocab, "hidden_size": c.width,
            "num_hidden_layers": c.layers, "num_attention_heads": c.heads, "intermediate_size": c.ffn,
            "max_position_embeddings": c.maxPositions, "type_vocab_size": c.typeVocab, "layer_norm_eps": Double(c.normEps),
            "hidden_act": "gelu", "torch_dtype": "float32",
        ]
        try write(config: config, tensors: tensors, to: path, tokenizer: tokenizer)
    }

    /// Both files into a sibling temporary folder, then one rename: never a half-written model.
    static func write(config: [String: Any], tensors: [String: Tensor], to path: String,
                      tokenizer: BPETokenizer? = nil, chatTemplate: String? = nil, dtype: DType = .f32) throws {
        var config = config
        if dtype != .f32 { config["torch_dtype"] = dtype == .bf16 ? "bfloat16" : "float16" }
        // Without these, transformers assumes GPT-2's 50256 and never stops generating.
        if let bos = tokenizer?.bos { config["bos_token_id"] = Int(bos) }
        if let eos = tokenizer?.eos { config["eos_token_id"] = Int(eos) }
        let fm = FileManager.default
        let staging = path.hasSuffix("/") ? String(path.dropLast()) + ".tmp" : path + ".tmp"
        try? fm.removeItem(atPath: staging)
        do {
            try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
            let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(json, to: (staging as NSString).appendingPathComponent("config.json"))
            try Safetensors.write(tensors.mapValues { t in Tensor.noGrad { t.contiguous() } }, metadata: ["format": "pt"], dtype: dtype,
                                  to: (staging as NSString).appendingPathComponent("model.safetensors"))
            if let tokenizer {
                try AtomicFile.write(try TokenizerJSON.data(tokenizer), to: (staging as NSString).appendingPathComponent("tokenizer.json"))
                var settings: [String: Any] = ["tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": false]
                if let bos = tokenizer.bos { settings["bos_token"] = tokenizer.vocabulary[Int(bos)] }
                if let eos = tokenizer.eos { settings["eos_token"] = tokenizer.vocabulary[Int(eos)] }
                if let chatTemplate { settings["chat_template"] = chatTemplate }
                let data = try JSONSerialization.data(withJSONObject: settings, options: [.prettyPrinted, .sortedKeys])
                try AtomicFile.write(data, to: (staging as NSString).appendingPathComponent("tokenizer_config.json"))
            }
            if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
            try fm.moveItem(atPath: staging, toPath: path)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw ModelFileError(path, "cannot be written (\(error))")
        }
    }
}
