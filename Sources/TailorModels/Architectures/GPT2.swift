import TailorRuntime

/// Hyper-parameters of a GPT-2-style decoder.
public struct GPT2Config: Sendable, Equatable, Codable {
    public var vocab: Int
    public var context: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var normEps: Float

    public init(vocab: Int, context: Int, width: Int, layers: Int, heads: Int, normEps: Float = 1e-5) {
        self.vocab = vocab
        self.context = context
        self.width = width
        self.layers = layers
        self.heads = heads
        self.normEps = normEps
    }

    /// Parameters (the head is tied to the embedding).
    public var parameterCount: Int {
        let block = 4 * width + (3 * width * width + 3 * width) + (width * width + width) + (8 * width * width + 5 * width)
        return (vocab + context) * width + layers * block + 2 * width
    }
}

/// A GPT-2-style decoder: learned positions, pre-LayerNorm blocks, fused QKV with bias,
/// tanh-GELU MLP 4×, final LayerNorm, LM head tied to the token embedding.
///
/// Module names: `embed`, `embed.position`, `layers.N.norm.attn`, `layers.N.attn.qkv`,
/// `layers.N.attn.o`, `layers.N.norm.mlp`, `layers.N.mlp.up`, `layers.N.mlp.down`, `norm.final`.
/// The fused `attn.qkv` holds `attn.q`, `attn.k` and `attn.v` as its three column blocks, so
/// adapters name them as in the other architectures.
public final class GPT2: CausalLM, @unchecked Sendable {
    /// The linear modules adapters and freezing can name (the spec checker's list for gpt2).
    public static let adaptableModules = ["attn.q", "attn.k", "attn.v", "attn.o", "mlp.up", "mlp.down"]

    public struct Layer: Sendable {
        public var attnNorm: LayerNorm
        public var qkv: Linear, o: Linear  // (C, 3C), (C, C)
        public var mlpNorm: LayerNorm
        public var up: Linear, down: Linear  // (C, 4C), (4C, C)

        public init(attnNorm: LayerNorm, qkv: Linear, o: Linear, mlpNorm: LayerNorm, up: Linear, down: Linear) {
            self.attnNorm = attnNorm
            self.qkv = qkv
            self.o = o
            self.mlpNorm = mlpNorm
            self.up = up
            self.down = down
        }
    }

    public let config: GPT2Config
    public var embed: Tensor, positions: Tensor  // (V, C), (P, C)
    public var layers: [Layer]
    public var finalNorm: LayerNorm
    /// LoRA adapters: on `attn.q`, `attn.k`, `attn.v` (blocks of the fused projection),
    /// `attn.o`, `mlp.up`, `mlp.down` (none by default).
    public var adapters = AdapterSet()

    public init(config: GPT2Config, embed: Tensor, positions: Tensor, layers: [Layer], finalNorm: LayerNorm) {
        self.config = config
        self.embed = embed
        self.positions = positions
        self.layers = layers
        self.finalNorm = finalNorm
    }

    /// A freshly initialised model (GPT-2's scheme: normal(0, std) weights, output
    /// projections scaled by 1/√(2·layers), zero biases, unit norms), trainable.
    public convenience init(config c: GPT2Config, seed: UInt64, std: Float = 0.02) {
        let residualStd = std / Float(2 * c.layers).squareRoot()
        func normal(_ shape: [Int], _ std: Float, _ stream: UInt64) -> Tensor {
            Tensor.randomNormal(shape, std: std, rng: Philox(seed: seed, stream: stream)).requiringGrad()
        }
        func linear(_ i: Int, _ o: Int, _ std: Float, _ stream: UInt64) -> Linear {
            Linear(weight: normal([i, o], std, stream), bias: Tensor(zeros: [o], requiresGrad: true))
        }
        func norm() -> LayerNorm {
            LayerNorm(weight: Tensor(repeating: 1, shape: [c.width], requiresGrad: true), bias: Tensor(zeros: [c.width], requiresGrad: true), eps: c.normEps)
        }
        let layers = (0..<c.layers).map { i -> Layer in
            let s = UInt64(i) * 8 + 2
            return Layer(attnNorm: norm(), qkv: linear(c.width, 3 * c.width, std, s), o: linear(c.width, c.width, residualStd, s + 1),
                         mlpNorm: norm(), up: linear(c.width, 4 * c.width, std, s + 2), down: linear(4 * c.width, c.width, residualStd, s + 3))
        }
        self.init(config: c, embed: normal([c.vocab, c.width], std, 0), positions: normal([c.context, c.width], std / 2, 1),
                  layers: layers, finalNorm: norm())
    }

    public var vocab: Int { config.vocab }
    public var context: Int { config.context }
    public var width: Int { config.width }

    public func makeCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(layers: config.layers, batch: batch, kvHeads: config.heads, headDim: config.width / config.heads, capacity: capacity)
    }

    /// Makes every weight a contiguous tensor of its own, as optimizers update weights in place
    /// (GPT-2 checkpoints already store (In, Out) matrices, so this copies only views).
    public func makeTrainable() {
        func own(_ t: Tensor) -> Tensor { t.isContiguous ? t : Tensor.noGrad { t.contiguous().detached() } }
        func own(_ l: Linear) -> Linear { Linear(weight: own(l.weight), bias: l.bias.map(own)) }
        func own(_ n: LayerNorm) -> LayerNorm { LayerNorm(weight: own(n.weight), bias: own(n.bias), eps: n.eps) }
        embed = own(embed)
        positions = own(positions)
        finalNorm = own(finalNorm)
        layers = layers.map { Layer(attnNorm: own($0.attnNorm), qkv: own($0.qkv), o: own($0.o), mlpNorm: own($0.mlpNorm), up: own($0.up), down: own($0.down)) }
    }

    /// Every parameter under its stable name.
    public var namedParameters: [(String, Tensor)] {
        var out: [(String, Tensor)] = [("embed", embed), ("embed.position", positions)]
        for (i, l) in layers.enumerated() {
            let p = "layers.\(i)."
            out += [(p + "norm.attn.weight", l.attnNorm.weight), (p + "norm.attn.bias", l.attnNorm.bias)]
            for (name, linear) in [("attn.qkv", l.qkv), ("attn.o", l.o), ("mlp.up", l.up), ("mlp.down", l.down)] {
                out.append((p + name + ".weight", linear.weight))
                if let bias = linear.bias { out.append((p + name + ".bias", bias)) }
            }
            out += [(p + "norm.mlp.weight", l.mlpNorm.weight), (p + "norm.mlp.bias", l.mlpNorm.bias)]
        }
        return out + [("norm.final.weight", finalNorm.weight), ("norm.final.bias", finalNorm.bias)]
    }

    public func logits(_ ids: [Int32], batch: Int, cache: KVCache? = nil, keyStart: [Int]? = nil, lastOnly: Bool = false) -> Tensor {
        var x = hidden(ids, batch: batch, cache: cache, keyStart: keyStart)  // (B, T, C)
        if lastOnly { x = x.slice(axis: 1, (x.shape[1] - 1)..<x.shape[1]) }
        return x.matmul(embed.transposed())  // (B, T, V)
    }

    public func logits(_ ids: [Int32], batch: Int, packed: PackedRows) -> Tensor {
        hidden(ids, batch: batch, cache: nil, keyStart: nil, packed: packed).matmul(embed.transposed())  // (B, T, V)
    }

    public func logits(fromHidden hidden: Tensor) -> Tensor { hidden.matmul(embed.transposed()) }  // (B, T, V)

    /// Final-normalised hidden states (B, T, C): what the LM head and task heads read.
    public func hidden(_ ids: [Int32], batch: Int, cache: KVCache? = nil, keyStart: [Int]? = nil) -> Tensor {
        hidden(ids, batch: batch, cache: cache, keyStart: keyStart, packed: nil)
    }

    func hidden(_ ids: [Int32], batch: Int, cache: KVCache?, keyStart: [Int]?, packed: PackedRows?) -> Tensor {
        let t = ids.count / batch
        precondition(t * batch == ids.count && t > 0, "logits: \(ids.count) ids do not fill a batch of \(batch)")
        let past = cache?.length ?? 0
        precondition(past + t <= config.context, "GPT-2 attends over at most \(config.context) positions")
        // Learned positions count from each sequence's first real token (left padding sits at 0),
        // or from each packed example's first token.
        let rowPositions = packed.map { $0.positions.map(Int32.init) }
            ?? (0..<batch).flatMap { b in (0..<t).map { Int32(Swift.max(0, past + $0 - (keyStart?[b] ?? 0))) } }
        var x = embed.embedding(ids, shape: [batch, t]) + positions.embedding(rowPositions, shape: [batch, t])  // (B, T, C)
        for (i, layer) in layers.enumerated() {
            x = block(x, layer, index: i, cache: cache, keyStart: keyStart, segmentStart: packed?.segmentStart)
        }
        cache?.length = past + t
        return finalNorm(x)
    }

    func block(_ x: Tensor, _ l: Layer, index: Int, cache: KVCache?, keyStart: [Int]?, segmentStart: [Int]?) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], config.width)
        let (h, d) = (config.heads, config.width / config.heads)
        let p = "layers.\(index)."
        let n = l.attnNorm(x)
        var parts = l.qkv(n).split(sizes: [c, c, c], axis: 2)  // 3 × (B, T, C)
        for (i, module) in ["attn.q", "attn.k", "attn.v"].enumerated() { parts[i] = adapters.adding(p + module, n, to: parts[i]) }
        func heads(_ y: Tensor) -> Tensor { y.reshaped([b, t, h, d]).permuted([0, 2, 1, 3]) }  // (B, H, T, D)
        var (k, v) = (heads(parts[1]), heads(parts[2]))
        if let cache { (k, v) = cache.append(layer: index, keys: k, values: v) }
        let attended = Tensor.attention(heads(parts[0]), k, v, keyStart: keyStart, segmentStart: segmentStart)  // (B, H, T, D) over (B, T, H, D)
        let merged = attended.permuted([0, 2, 1, 3]).reshaped([b, t, c])
        let hidden = x + adapters.linear(p + "attn.o", merged, l.o.weight, bias: l.o.bias)
        let m = l.mlpNorm(hidden)
        let up = adapters.linear(p + "mlp.up", m, l.up.weight, bias: l.up.bias).gelu()
        return hidden + adapters.linear(p + "mlp.down", up, l.down.weight, bias: l.down.bias)
    }
}
