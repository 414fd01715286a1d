import TailorRuntime

/// Hyper-parameters of a Llama-style decoder: RMSNorm, rotary positions, SwiGLU MLP,
/// grouped-query attention, tied or untied LM head.
public struct LlamaConfig: Sendable, Equatable, Codable {
    public var vocab: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var ffn: Int
    public var context: Int
    public var ropeBase: Float
    public var normEps: Float
    public var tiedHead: Bool
    /// Rotary pairing of the stored Q/K weights: Hugging Face checkpoints rotate halves,
    /// GGUF files store Q and K permuted for neighbouring pairs.
    public var interleavedRotary: Bool

    public init(vocab: Int, width: Int, layers: Int, heads: Int, kvHeads: Int, ffn: Int, context: Int,
                ropeBase: Float = 10_000, normEps: Float = 1e-5, tiedHead: Bool = true, interleavedRotary: Bool = false) {
        self.vocab = vocab
        self.width = width
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.ffn = ffn
        self.context = context
        self.ropeBase = ropeBase
        self.normEps = normEps
        self.tiedHead = tiedHead
        self.interleavedRotary = interleavedRotary
    }

    public var headDim: Int { width / heads }

    /// Parameters, counting a tied head once.
    public var parameterCount: Int {
        let attention = width * width * 2 + width * headDim * kvHeads * 2
        let block = attention + 3 * width * ffn + 2 * width
        return vocab * width * (tiedHead ? 1 : 2) + layers * block + width
    }
}
