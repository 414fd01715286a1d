import TailorRuntime

/// A Llama decoder for serving: the same computation as `Llama` (whose norms, rotary and
/// activation kernels it calls), with linear weights as `BlockMatrix` and a cache per sequence.
public final class DecodingLlama: DecodingModel, @unchecked Sendable {  // immutable after init
    struct Layer {
        let attnNorm: Tensor, mlpNorm: Tensor  // (C)
        let q: BlockLinear, k: BlockLinear, v: BlockLinear, o: BlockLinear
        let gate: BlockLinear, up: BlockLinear, down: BlockLinear
    }

    public let config: LlamaConfig
    let embed: BlockMatrix  // (V, C)
    let layers: [Layer]
    let finalNorm: Tensor  // (C)
    let head: BlockMatrix  // (V, C): the embedding when tied

    init(config: LlamaConfig, embed: BlockMatrix, layers: [Layer], finalNorm: Tensor, head: BlockMatrix?) {
        self.config = config
        self.embed = embed
        self.layers = layers
        self.finalNorm = finalNorm
        self.head = head ?? embed
    }

    /// A float model's weights, shared with it (its transposed views are used as they are).
    public convenience init(_ model: Llama) {
        func linear(_ w: Tensor) -> BlockLinear { BlockLinear(weight: BlockMatrix(transposing: w), bias: nil) }
        let layers = model.layers.map { l in
            Layer(attnNorm: l.attnNorm, mlpNorm: l.mlpNorm, q: linear(l.q), k: linear(l.k), v: linear(l.v), o: linear(l.o),
                  gate: linear(l.gate), up: linear(l.up), down: linear(l.down))
        }
        self.init(config: model.config, embed: BlockMatrix(rowsOf: model.embed), layers: layers, finalNorm: model.finalNorm,
                  head: model.head.map { BlockMatrix(transposing: $0) })
    }

    public var vocab: Int { config.vocab }
    public var context: Int { config.context }

    public func makeCache(capacity: Int) -> SequenceKV {
        SequenceKV(layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim, capacity: capacity)
    }

    public func step(_ segments: [DecodeSegment]) -> Tensor {
        Tensor.noGrad {
            let batch = DecodeRows(segments)
            let (c, h, hkv, d) = (config.width, config.heads, config.kvHeads, config.headDim)
            let pairing: Tensor.RotaryPairing = config.interleavedRotary ? .interleaved : .halves
            /// Rotates (R, n·D) rows, each at its own position.
            func rotated(_ y: Tensor, _ n: Int) -> Tensor {
                y.reshaped([1, batch.count, n, d]).permuted([0, 2, 1, 3]).rotary(positions: batch.positions, base: config.ropeBase, pairing: pairing)
                    .permuted([0, 2, 1, 3]).contiguous().reshaped([batch.count, n * d])
            }
            var x = Tensor(zeros: [batch.count, c])  // (R, C)
            for (s, range) in batch.ranges.enumerated() {
                for (i, token) in segments[s].tokens.enumerated() { embed.decodeRow(Int(token), into: x.pointer + (range.lowerBound + i) * c) }
            }
            for (i, l) in layers.enumerated() {
                let p = "layers.\(i)."
                let n = x.rmsNorm(weight: l.attnNorm, eps: config.normEps)  // (R, C)
                let qkv = BlockLinear.apply([(l.q, [(p + "attn.q", 0)]), (l.k, [(p + "attn.k", 0)]), (l.v, [(p + "attn.v", 0)])], n, batch)
                // (R, H·D), (R, Hkv·D), (R, Hkv·D)
                let attended = batch.attention(layer: i, q: rotated(qkv[0], h), k: rotated(qkv[1], hkv), v: qkv[2], heads: h)  // (R, H·D)
                x = x + l.o(attended, batch, [(p + "attn.o", 0)])
                let m = x.rmsNorm(weight: l.mlpNorm, eps: config.normEps)
                let gateUp = BlockLinear.apply([(l.gate, [(p + "mlp.gate", 0)]), (l.up, [(p + "mlp.up", 0)])], m, batch)  // 2 × (R, F)
                let inner = (gateUp[0].silu() * gateUp[1]).contiguous()  // (R, F)
                x = x + l.down(inner, batch, [(p + "mlp.down", 0)])
            }
            batch.finish()
            let last = x.embedding(batch.logitRows.map(Int32.init), shape: [batch.logitRows.count]).rmsNorm(weight: finalNorm, eps: config.normEps)  // (S, C)
            let logits = Tensor(zeros: [last.shape[0], head.rows])  // (S, V)
            // `last` is read through its pointer only: kept alive until the product has read it
            // (Swift keeps an object only to its last use).
            withExtendedLifetime(last) { head.multiply(last.pointer, rows: last.shape[0], into: logits.pointer) }
            return logits
        }
    }
}

extension GGUFFile {
    /// A Llama for serving with its linear weights in the file's own blocks (memory-mapped, not
    /// expanded): Q8_0, Q4_0 and Q4_1 as stored, F16 and BF16 widened to Float32.
    public func decodingLlama() throws -> DecodingLlama {
        let config = try llamaConfig()
        let (c, kv, f) = (config.width, config.kvHeads * config.headDim, config.ffn)
        func matrix(_ name: String, rows: Int, columns: Int) throws -> BlockMatrix {
            guard let info = info(name), info.shape == [rows, columns] else {
                throw ModelFileError(path, "tensor '\(name)' is missing or not (\(rows), \(columns))")
            }
            let encoding: BlockMatrix.Encoding? = switch info.type {
            case .f32: .f32
            case .q8_0: .q8_0
            case .q4_0: .q4_0
            case .q4_1: .q4_1
            default: nil
            }
            guard let encoding else { return BlockMatrix(rowsOf: try tensor(info)) }
            do { return try BlockMatrix(encoding, rows: rows, columns: columns, bytes: data[info.range]) } catch let error as BlockMatrixError {
                throw ModelFileError(path, "tensor '\(name)': \(error.description)")
            }
        }
        func linear(_ name: String, in inputs: Int, out outputs: Int) throws -> BlockLinear {
            BlockLinear(weight: try matrix(name, rows: outputs, columns: inputs), bias: nil)
        }
        func vector(_ name: String) throws -> Tensor {
            let t = try tensor(name)
            guard t.shape == [c] else { throw ModelFileError(path, "tensor '\(name)' has shape \(t.shape), expected [\(c)]") }
            return t
        }
        let layers = try (0..<config.layers).map { i in
            let p = "blk.\(i)."
            return DecodingLlama.Layer(
                attnNorm: try vector(p + "attn_norm.weight"), mlpNorm: try vector(p + "ffn_norm.weight"),
                q: try linear(p + "attn_q.weight", in: c, out: c), k: try linear(p + "attn_k.weight", in: c, out: kv),
                v: try linear(p + "attn_v.weight", in: c, out: kv), o: try linear(p + "attn_output.weight", in: c, out: c),
                gate: try linear(p + "ffn_gate.weight", in: c, out: f), up: try linear(p + "ffn_up.weight", in: c, out: f),
                down: try linear(p + "ffn_down.weight", in: f, out: c))
        }
        return DecodingLlama(config: config, embed: try matrix("token_embd.weight", rows: config.vocab, columns: c), layers: layers,
                             finalNorm: try vector("output_norm.weight"),
                             head: config.tiedHead ? nil : try matrix("output.weight", rows: config.vocab, columns: c))
    }
}
