import TailorRuntime

/// A Llama-style decoder on the runtime. Weights are held as (In, Out) matrices, often
/// transposed views of (Out, In) storage as checkpoints keep them: BLAS reads the
/// transpose as a flag, so loading never copies a matrix.
///
/// Module names are stable (LoRA targets and the spec checker use them):
/// `embed`, `layers.N.norm.attn`, `layers.N.attn.{q,k,v,o}`, `layers.N.norm.mlp`,
/// `layers.N.mlp.{gate,up,down}`, `norm.final`, `lm_head` (absent when tied to `embed`).
public final class Llama: @unchecked Sendable {
    /// The linear modules adapters and freezing can name (the spec checker's list for llama).
    public static let adaptableModules = ["attn.q", "attn.k", "attn.v", "attn.o", "mlp.gate", "mlp.up", "mlp.down"]

    public struct Layer {
        public var attnNorm: Tensor  // (C)
        public var q: Tensor, k: Tensor, v: Tensor, o: Tensor  // (C, H·D), (C, Hkv·D), (C, Hkv·D), (H·D, C)
        public var mlpNorm: Tensor  // (C)
        public var gate: Tensor, up: Tensor, down: Tensor  // (C, F), (C, F), (F, C)

        public init(attnNorm: Tensor, q: Tensor, k: Tensor, v: Tensor, o: Tensor, mlpNorm: Tensor, gate: Tensor, up: Tensor, down: Tensor) {
            self.attnNorm = attnNorm
            self.q = q
            self.k = k
            self.v = v
            self.o = o
            self.mlpNorm = mlpNorm
            self.gate = gate
            self.up = up
            self.down = down
        }
    }

    public let config: LlamaConfig
    public var embed: Tensor  // (V, C)
    public var layers: [Layer]
    public var finalNorm: Tensor  // (C)
    /// Untied output projection (C, V); nil when the head is the embedding.
    public var head: Tensor?
    /// LoRA adapters on the linear modules (none by default).
    public var adapters = AdapterSet()

    public init(config: LlamaConfig, embed: Tensor, layers: [Layer], finalNorm: Tensor, head: Tensor?) {
        self.config = config
        self.embed = embed
        self.layers = layers
        self.finalNorm = finalNorm
        self.head = head
    }

    /// A freshly initialised model, trainable: normal(0, std) weights (output projections
    /// scaled by 1/√(2·layers)), unit norms, Hugging Face's rotary layout.
    public convenience init(config c: LlamaConfig, seed: UInt64, std: Float = 0.02) {
        var config = c
        config.interleavedRotary = false
        let residualStd = std / Float(2 * c.layers).squareRoot()
        let kv = c.kvHeads * c.headDim
        func normal(_ shape: [Int], _ s: Float, _ stream: UInt64) -> Tensor {
            Tensor.randomNormal(shape, std: s, rng: Philox(seed: seed, stream: stream)).requiringGrad()
        }
        func ones() -> Tensor { Tensor(repeating: 1, shape: [c.width], requiresGrad: true) }
        let layers = (0..<c.layers).map { i -> Layer in
            let s = UInt64(i) * 8 + 2
            return Layer(attnNorm: ones(), q: normal([c.width, c.width], std, s), k: normal([c.width, kv], std, s + 1),
                         v: normal([c.width, kv], std, s + 2), o: normal([c.width, c.width], residualStd, s + 3), mlpNorm: ones(),
                         gate: normal([c.width, c.ffn], std, s + 4), up: normal([c.width, c.ffn], std, s + 5),
                         down: normal([c.ffn, c.width], residualStd, s + 6))
        }
        self.init(config: config, embed: normal([c.vocab, c.width], std, 0), layers: layers, finalNorm: ones(),
                  head: c.tiedHead ? nil : normal([c.width, c.vocab], std, 1))
    }

    /// Makes every weight a contiguous tensor of its own (loaded weights are often transposed
    /// views of a checkpoint's storage), as optimizers update weights in place.
    public func makeTrainable() {
        func own(_ t: Tensor) -> Tensor { t.isContiguous ? t : Tensor.noGrad { t.contiguous().detached() } }
        embed = own(embed)
        finalNorm = own(finalNorm)
        head = head.map(own)
        for i in layers.indices {
            let l = layers[i]
            layers[i] = Layer(attnNorm: own(l.attnNorm), q: own(l.q), k: own(l.k), v: own(l.v), o: own(l.o), mlpNorm: own(l.mlpNorm),
                              gate: own(l.gate), up: own(l.up), down: own(l.down))
        }
    }

    /// Every parameter under its stable name.
    public var namedParameters: [(String, Tensor)] {
        var out: [(String, Tensor)] = [("embed", embed)]
        for (i, l) in layers.enumerated() {
            let p = "layers.\(i)."
            out += [(p + "norm.attn", l.attnNorm), (p + "attn.q", l.q), (p + "attn.k", l.k), (p + "attn.v", l.v), (p + "attn.o", l.o),
                    (p + "norm.mlp", l.mlpNorm), (p + "mlp.gate", l.gate), (p + "mlp.up", l.up), (p + "mlp.down", l.down)]
        }
        out.append(("norm.final", finalNorm))
        if let head { out.append(("lm_head", head)) }
        return out
    }

    /// Logits for a (B, T) batch of token ids, (B, T, V), or (B, 1, V) for the last position
    /// only (`lastOnly`, the decoding case). With a cache, the T tokens continue the cached
    /// sequences and their keys and values are appended. `keyStart[b]` masks left padding.
    public func logits(_ ids: [Int32], batch: Int, cache: KVCache? = nil, keyStart: [Int]? = nil, lastOnly: Bool = false) -> Tensor {
        var x = hidden(ids, batch: batch, cache: cache, keyStart: keyStart)  // (B, T, C)
        if lastOnly { x = x.slice(axis: 1, (x.shape[1] - 1)..<x.shape[1]) }
        return x.matmul(head ?? embed.transposed())  // (B, T, V)
    }

    public func logits(_ ids: [Int32], batch: Int, packed: PackedRows) -> Tensor {
        hidden(ids, batch: batch, cache: nil, keyStart: nil, packed: packed).matmul(head ?? embed.transposed())  // (B, T, V)
    }

    public func logits(fromHidden hidden: Tensor) -> Tensor { hidden.matmul(head ?? embed.transposed()) }  // (B, T, V)

    /// Final-normalised hidden states (B, T, C): what the LM head and task heads read.
    public func hidden(_ ids: [Int32], batch: Int, cache: KVCache? = nil, keyStart: [Int]? = nil) -> Tensor {
        hidden(ids, batch: batch, cache: cache, keyStart: keyStart, packed: nil)
    }

    func hidden(_ ids: [Int32], batch: Int, cache: KVCache?, keyStart: [Int]?, packed: PackedRows?) -> Tensor {
        let t = ids.count / batch
        precondition(t * batch == ids.count && t > 0, "logits: \(ids.count) ids do not fill a batch of \(batch)")
        let past = cache?.length ?? 0
        let positions = packed?.positions ?? Array(past..<past + t)
        var x = embed.embedding(ids, shape: [batch, t])  // (B, T, C)
        for (i, layer) in layers.enumerated() {
            x = block(x, layer, index: i, positions: positions, cache: cache, keyStart: keyStart, segmentStart: packed?.segmentStart)
        }
        cache?.length = past + t
        return x.rmsNorm(weight: finalNorm, eps: config.normEps)
    }

    func block(_ x: Tensor, _ l: Layer, index: Int, positions: [Int], cache: KVCache?, keyStart: [Int]?, segmentStart: [Int]?) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], config.width)
        let (h, hkv, d) = (config.heads, config.kvHeads, config.headDim)
        let pairing: Tensor.RotaryPairing = config.interleavedRotary ? .interleaved : .halves
        let p = "layers.\(index)."
        /// x·W plus the module's adapter, if any.
        func linear(_ x: Tensor, _ w: Tensor, _ module: String) -> Tensor { adapters.linear(p + module, x, w) }
        let n = x.rmsNorm(weight: l.attnNorm, eps: config.normEps)  // (B, T, C)
        let q = linear(n, l.q, "attn.q").reshaped([b, t, h, d]).permuted([0, 2, 1, 3])  // (B, H, T, D)
            .rotary(positions: positions, base: config.ropeBase, pairing: pairing)
        var k = linear(n, l.k, "attn.k").reshaped([b, t, hkv, d]).permuted([0, 2, 1, 3])  // (B, Hkv, T, D)
            .rotary(positions: positions, base: config.ropeBase, pairing: pairing)
        var v = linear(n, l.v, "attn.v").reshaped([b, t, hkv, d]).permuted([0, 2, 1, 3])  // (B, Hkv, T, D)
        if let cache { (k, v) = cache.append(layer: index, keys: k, values: v) }
        let attended = Tensor.attention(q, k, v, keyStart: keyStart, segmentStart: segmentStart)  // (B, H, T, D) over (B, T, H, D)
        let hidden = x + linear(attended.permuted([0, 2, 1, 3]).reshaped([b, t, c]), l.o, "attn.o")
        let m = hidden.rmsNorm(weight: l.mlpNorm, eps: config.normEps)
        return hidden + linear(linear(m, l.gate, "mlp.gate").silu() * linear(m, l.up, "mlp.up"), l.down, "mlp.down")
    }
}

/// Keys and values of earlier positions, per layer, so each decoding step computes only
/// the new token. Preallocated for `capacity` positions: (B, Hkv, capacity, D) per layer.
public final class KVCache: @unchecked Sendable {
    public let capacity: Int
    public internal(set) var length = 0
    var keys: [Tensor], values: [Tensor]

    public init(layers: Int, batch: Int, kvHeads: Int, headDim: Int, capacity: Int) {
        self.capacity = capacity
        keys = (0..<layers).map { _ in Tensor(zeros: [batch, kvHeads, capacity, headDim]) }
        values = (0..<layers).map { _ in Tensor(zeros: [batch, kvHeads, capacity, headDim]) }
    }

    public convenience init(for config: LlamaConfig, batch: Int, capacity: Int) {
        self.init(layers: config.layers, batch: batch, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
    }

    /// Writes new (B, Hkv, T, D) keys and values after the cached ones; returns views of all of them.
    func append(layer: Int, keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        let t = k.shape[2]
        precondition(length + t <= capacity, "KV cache full: \(length) + \(t) positions exceed its capacity of \(capacity)")
        let range = length..<(length + t)
        keys[layer].slice(axis: 2, range).assign(k)
        values[layer].slice(axis: 2, range).assign(v)
        return (keys[layer].slice(axis: 2, 0..<range.upperBound), values[layer].slice(axis: 2, 0..<range.upperBound))
    }
}
