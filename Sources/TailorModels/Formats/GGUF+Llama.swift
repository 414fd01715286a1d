import TailorRuntime

/// A Llama-architecture model from a GGUF file (llama.cpp's tensor names and metadata).
extension GGUFFile {
    /// The architecture the file declares (`general.architecture`).
    public var architecture: String? { string("general.architecture") }

    /// The model's hyper-parameters from `<arch>.*` metadata.
    public func llamaConfig() throws -> LlamaConfig {
        guard let arch = architecture else { throw ModelFileError(path, "has no general.architecture") }
        guard arch == "llama" else { throw ModelFileError(path, "holds a '\(arch)' model; Tailor loads 'llama' models from GGUF") }
        /// A positive dimension below 2³¹, so shapes built from it cannot overflow.
        func required(_ key: String) throws -> Int {
            guard let v = int("\(arch).\(key)"), v > 0 else { throw ModelFileError(path, "lacks \(arch).\(key) (or it is not a positive integer)") }
            guard v < 1 << 31 else { throw ModelFileError(path, "\(arch).\(key) is \(v); dimensions must be below 2^31") }
            return v
        }
        let width = try required("embedding_length"), heads = try required("attention.head_count")
        guard width % heads == 0 else { throw ModelFileError(path, "width \(width) is not a multiple of \(heads) heads") }
        let kvHeads = int("\(arch).attention.head_count_kv") == nil ? heads : try required("attention.head_count_kv")
        guard kvHeads > 0, heads % kvHeads == 0 else { throw ModelFileError(path, "\(heads) heads cannot share \(kvHeads) key/value heads") }
        guard let embed = info("token_embd.weight"), embed.shape.count == 2, embed.shape[1] == width else {
            throw ModelFileError(path, "token_embd.weight is missing or not (vocab, \(width))")
        }
        let ropeDims = int("\(arch).rope.dimension_count") ?? width / heads
        guard ropeDims == width / heads else {
            throw ModelFileError(path, "rotary embeddings over \(ropeDims) of \(width / heads) head dimensions are not supported")
        }
        return LlamaConfig(
            vocab: embed.shape[0], width: width, layers: try required("block_count"), heads: heads, kvHeads: kvHeads,
            ffn: try required("feed_forward_length"), context: int("\(arch).context_length") == nil ? 2048 : try required("context_length"),
            ropeBase: Float(double("\(arch).rope.freq_base") ?? 10_000),
            normEps: Float(double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5),
            tiedHead: info("output.weight") == nil, interleavedRotary: true)
    }

    /// Loads and dequantises every weight into Float32.
    public func llama() throws -> Llama {
        let config = try llamaConfig()
        let (c, kv, f) = (config.width, config.kvHeads * config.headDim, config.ffn)
        /// A weight of the expected row-major shape.
        func load(_ name: String, _ shape: [Int]) throws -> Tensor {
            let t = try tensor(name)
            guard t.shape == shape else { throw ModelFileError(path, "tensor '\(name)' has shape \(t.shape), expected \(shape)") }
            return t
        }
        /// A GGUF matrix (Out, In) as the (In, Out) view the model multiplies by.
        func matrix(_ name: String, in inputs: Int, out outputs: Int) throws -> Tensor {
            try load(name, [outputs, inputs]).transposed()
        }
        var layers: [Llama.Layer] = []
        for i in 0..<config.layers {
            let p = "blk.\(i)."
            layers.append(Llama.Layer(
                attnNorm: try load(p + "attn_norm.weight", [c]),
                q: try matrix(p + "attn_q.weight", in: c, out: c), k: try matrix(p + "attn_k.weight", in: c, out: kv),
                v: try matrix(p + "attn_v.weight", in: c, out: kv), o: try matrix(p + "attn_output.weight", in: c, out: c),
                mlpNorm: try load(p + "ffn_norm.weight", [c]),
                gate: try matrix(p + "ffn_gate.weight", in: c, out: f), up: try matrix(p + "ffn_up.weight", in: c, out: f),
                down: try matrix(p + "ffn_down.weight", in: f, out: c)))
        }
        let head = config.tiedHead ? nil : try matrix("output.weight", in: c, out: config.vocab)
        return Llama(config: config, embed: try load("token_embd.weight", [config.vocab, c]), layers: layers,
                     finalNorm: try load("output_norm.weight", [c]), head: head)
    }
}
