import Foundation
import TailorRuntime

/// Hyper-parameters of a BERT-style encoder (post-LayerNorm, learned positions, token types).
public struct BertConfig: Sendable, Equatable, Codable {
    public var vocab: Int
    public var width: Int
    public var layers: Int
    public var heads: Int
    public var ffn: Int
    public var maxPositions: Int
    public var typeVocab: Int
    public var normEps: Float

    public init(vocab: Int, width: Int, layers: Int, heads: Int, ffn: Int, maxPositions: Int, typeVocab: Int, normEps: Float) {
        self.vocab = vocab
        self.width = width
        self.layers = layers
        self.heads = heads
        self.ffn = ffn
        self.maxPositions = maxPositions
        self.typeVocab = typeVocab
        self.normEps = normEps
    }
}

/// A BERT encoder, as sentence encoders (all-MiniLM-L6-v2) use it: token + position + type
/// embeddings, then post-LN blocks of full self-attention and an exact-GELU MLP.
///
/// Module names: `embed`, `embed.position`, `embed.type`, `norm.embed`,
/// `layers.N.attn.{q,k,v,o}`, `layers.N.norm.attn`, `layers.N.mlp.{up,down}`, `layers.N.norm.mlp`.
public final class Bert: @unchecked Sendable {
    /// The linear modules adapters and freezing can name (the spec checker's list for bert).
    public static let adaptableModules = ["attn.q", "attn.k", "attn.v", "attn.o", "mlp.up", "mlp.down"]

    public struct Layer: Sendable {
        public var q: Linear, k: Linear, v: Linear, o: Linear
        public var attnNorm: LayerNorm
        public var up: Linear, down: Linear
        public var mlpNorm: LayerNorm

        public init(q: Linear, k: Linear, v: Linear, o: Linear, attnNorm: LayerNorm, up: Linear, down: Linear, mlpNorm: LayerNorm) {
            self.q = q
            self.k = k
            self.v = v
            self.o = o
            self.attnNorm = attnNorm
            self.up = up
            self.down = down
            self.mlpNorm = mlpNorm
        }
    }

    public let config: BertConfig
    public var wordEmbed: Tensor, positionEmbed: Tensor, typeEmbed: Tensor  // (V, C), (P, C), (types, C)
    public var embedNorm: LayerNorm
    public var layers: [Layer]

    public init(config: BertConfig, wordEmbed: Tensor, positionEmbed: Tensor, typeEmbed: Tensor, embedNorm: LayerNorm, layers: [Layer]) {
        self.config = config
        self.wordEmbed = wordEmbed
        self.positionEmbed = positionEmbed
        self.typeEmbed = typeEmbed
        self.embedNorm = embedNorm
        self.layers = layers
    }

    /// A freshly initialised encoder, trainable: normal(0, std) weights, zero biases, unit norms.
    public convenience init(config c: BertConfig, seed: UInt64, std: Float = 0.02) {
        var stream: UInt64 = 0
        func normal(_ shape: [Int]) -> Tensor {
            stream += 1
            return Tensor.randomNormal(shape, std: std, rng: Philox(seed: seed, stream: stream)).requiringGrad()
        }
        func linear(_ i: Int, _ o: Int) -> Linear { Linear(weight: normal([i, o]), bias: Tensor(zeros: [o], requiresGrad: true)) }
        func norm() -> LayerNorm {
            LayerNorm(weight: Tensor(repeating: 1, shape: [c.width], requiresGrad: true), bias: Tensor(zeros: [c.width], requiresGrad: true), eps: c.normEps)
        }
        let layers = (0..<c.layers).map { _ in
            Layer(q: linear(c.width, c.width), k: linear(c.width, c.width), v: linear(c.width, c.width), o: linear(c.width, c.width),
                  attnNorm: norm(), up: linear(c.width, c.ffn), down: linear(c.ffn, c.width), mlpNorm: norm())
        }
        self.init(config: c, wordEmbed: normal([c.vocab, c.width]), positionEmbed: normal([c.maxPositions, c.width]),
                  typeEmbed: normal([c.typeVocab, c.width]), embedNorm: norm(), layers: layers)
    }

    /// Every parameter under its stable name.
    public var namedParameters: [(String, Tensor)] {
        var out: [(String, Tensor)] = [("embed", wordEmbed), ("embed.position", positionEmbed), ("embed.type", typeEmbed),
                                       ("norm.embed.weight", embedNorm.weight), ("norm.embed.bias", embedNorm.bias)]
        for (i, l) in layers.enumerated() {
            let p = "layers.\(i)."
            for (name, linear) in [("attn.q", l.q), ("attn.k", l.k), ("attn.v", l.v), ("attn.o", l.o), ("mlp.up", l.up), ("mlp.down", l.down)] {
                out.append((p + name + ".weight", linear.weight))
                if let bias = linear.bias { out.append((p + name + ".bias", bias)) }
            }
            out += [(p + "norm.attn.weight", l.attnNorm.weight), (p + "norm.attn.bias", l.attnNorm.bias),
                    (p + "norm.mlp.weight", l.mlpNorm.weight), (p + "norm.mlp.bias", l.mlpNorm.bias)]
        }
        return out
    }

    /// Gives every weight contiguous storage of its own (loaded ones are transposed views).
    public func makeTrainable() {
        func own(_ t: Tensor) -> Tensor { t.isContiguous ? t : Tensor.noGrad { t.contiguous().detached() } }
        func own(_ l: Linear) -> Linear { Linear(weight: own(l.weight), bias: l.bias.map(own)) }
        layers = layers.map { Layer(q: own($0.q), k: own($0.k), v: own($0.v), o: own($0.o), attnNorm: $0.attnNorm, up: own($0.up),
                                    down: own($0.down), mlpNorm: $0.mlpNorm) }
    }

    /// Hidden states (B, T, C) of sequences right-padded to the longest; padding is masked.
    public func hidden(_ sequences: [[Int32]], padID: Int32 = 0) -> Tensor {
        let b = sequences.count, t = sequences.map(\.count).max() ?? 0
        precondition(b > 0 && t > 0 && t <= config.maxPositions, "BERT takes 1 to \(config.maxPositions) tokens per sequence")
        let lengths = sequences.map(\.count)
        let ids = sequences.flatMap { $0 + Array(repeating: padID, count: t - $0.count) }
        let (c, h) = (config.width, config.heads), d = c / h
        var x = wordEmbed.embedding(ids, shape: [b, t]) + positionEmbed.slice(axis: 0, 0..<t)
            + typeEmbed.slice(axis: 0, 0..<1)  // (B, T, C)
        x = embedNorm(x)
        for l in layers {
            func heads(_ y: Tensor) -> Tensor { y.reshaped([b, t, h, d]).permuted([0, 2, 1, 3]) }  // (B, H, T, D)
            let attended = Tensor.attention(heads(l.q(x)), heads(l.k(x)), heads(l.v(x)), causal: false, keyEnd: lengths)
            x = l.attnNorm(x + l.o(attended.permuted([0, 2, 1, 3]).reshaped([b, t, c])))
            x = l.mlpNorm(x + l.down(l.up(x).geluExact()))
        }
        return x
    }

    /// Sentence embeddings: the mean of each sequence's hidden states over its real tokens,
    /// scaled to unit length (sentence-transformers' mean pooling + normalisation).
    ///
    /// Each vector depends on its own sequence alone, never on the others in the call, so a
    /// passage embedded once can be reused bit for bit (the index's per-passage cache). Padding
    /// would break that: OpenBLAS computes a row of a product differently as the number of
    /// columns changes (the attention scores of a padded batch), and a product of fewer than 8
    /// rows differently from a taller one (measured with 384-wide weights). So sequences run in
    /// groups of one length, at most `batch` at a time, and a group of fewer than 8 token rows
    /// runs repeated up to 8.
    public func embeddings(_ sequences: [[Int32]], normalize: Bool = true, batch: Int = 32) -> [[Float]] {
        var out = [[Float]](repeating: [], count: sequences.count)
        let order = sequences.indices.sorted { (sequences[$0].count, $0) < (sequences[$1].count, $1) }
        var start = 0
        while start < order.count {
            let length = sequences[order[start]].count
            var end = start
            while end < order.count, end - start < batch, sequences[order[end]].count == length { end += 1 }
            let group = order[start..<end].map { sequences[$0] }
            let rows = Swift.max(1, length) * group.count
            let padded = rows >= 8 ? group : (0..<(group.count * ((8 + rows - 1) / rows))).map { group[$0 % group.count] }
            for (i, v) in zip(order[start..<end], pooled(padded, normalize: normalize)) { out[i] = v }
            start = end
        }
        return out
    }

    /// `embeddings` of one batch as `hidden` runs it (padded to its longest sequence).
    func pooled(_ sequences: [[Int32]], normalize: Bool) -> [[Float]] {
        let states = Tensor.noGrad { hidden(sequences).contiguous() }  // (B, T, C)
        let (t, c) = (states.shape[1], states.shape[2])
        return sequences.enumerated().map { bi, sequence in
            var mean = [Double](repeating: 0, count: c)
            for ti in 0..<sequence.count {
                let row = states.pointer + (bi * t + ti) * c
                for j in 0..<c { mean[j] += Double(row[j]) }
            }
            let n = Double(Swift.max(1, sequence.count))
            for j in 0..<c { mean[j] /= n }
            let norm = normalize ? Swift.max(mean.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12) : 1
            return mean.map { Float($0 / norm) }
        }
    }
}
