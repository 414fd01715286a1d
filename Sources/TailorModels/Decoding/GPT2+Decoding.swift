import TailorRuntime

/// A GPT-2 decoder for serving (see `DecodingLlama`): learned positions, LayerNorm, fused QKV
/// with bias (adapters on its q, k and v column blocks), GELU MLP, head tied to the embedding.
public final class DecodingGPT2: DecodingModel, @unchecked Sendable {  // immutable after init
    struct Layer {
        let attnNorm: LayerNorm, mlpNorm: LayerNorm
        let qkv: BlockLinear, o: BlockLinear, up: BlockLinear, down: BlockLinear
    }

    public let config: GPT2Config
    let embed: BlockMatrix, positions: Tensor  // (V, C), (P, C)
    let layers: [Layer]
    let finalNorm: LayerNorm

    /// A float model's weights, shared with it.
    public init(_ model: GPT2) {
        func linear(_ l: Linear) -> BlockLinear { BlockLinear(weight: BlockMatrix(transposing: l.weight), bias: l.bias) }
        config = model.config
        embed = BlockMatrix(rowsOf: model.embed)
        positions = Tensor.noGrad { model.positions.contiguous() }
        layers = model.layers.map { Layer(attnNorm: $0.attnNorm, mlpNorm: $0.mlpNorm, qkv: linear($0.qkv), o: linear($0.o), up: linear($0.up), down: linear($0.down)) }
        finalNorm = model.finalNorm
    }

    public var vocab: Int { config.vocab }
    public var context: Int { config.context }

    public func makeCache(capacity: Int) -> SequenceKV {
        SequenceKV(layers: config.layers, kvHeads: config.heads, headDim: config.width / config.heads, capacity: Swift.min(capacity, config.context))
    }

    public func step(_ segments: [DecodeSegment]) -> Tensor {
        Tensor.noGrad {
            let batch = DecodeRows(segments)
            let c = config.width
            let x0 = Tensor(zeros: [batch.count, c])  // (R, C)
            for (s, range) in batch.ranges.enumerated() {
                for (i, token) in segments[s].tokens.enumerated() {
                    let row = x0.pointer + (range.lowerBound + i) * c, at = positions.pointer + batch.positions[range.lowerBound + i] * c
                    embed.decodeRow(Int(token), into: row)
                    for j in 0..<c { row[j] += at[j] }
                }
            }
            var x = x0
            for (i, l) in layers.enumerated() {
                let p = "layers.\(i)."
                let n = l.attnNorm(x).contiguous()
                let qkv = l.qkv(n, batch, [(p + "attn.q", 0), (p + "attn.k", c), (p + "attn.v", 2 * c)])  // (R, 3C)
                let parts = qkv.split(sizes: [c, c, c], axis: 1).map { $0.contiguous() }
                let attended = batch.attention(layer: i, q: parts[0], k: parts[1], v: parts[2], heads: config.heads)  // (R, C)
                x = x + l.o(attended, batch, [(p + "attn.o", 0)])
                let up = l.up(l.mlpNorm(x).contiguous(), batch, [(p + "mlp.up", 0)]).gelu()
                x = x + l.down(up, batch, [(p + "mlp.down", 0)])
            }
            batch.finish()
            let last = finalNorm(x.embedding(batch.logitRows.map(Int32.init), shape: [batch.logitRows.count])).contiguous()  // (S, C)
            let logits = Tensor(zeros: [last.shape[0], embed.rows])  // (S, V)
            // Kept alive until read (see DecodingLlama.step).
            withExtendedLifetime(last) { embed.multiply(last.pointer, rows: last.shape[0], into: logits.pointer) }
            return logits
        }
    }
}
