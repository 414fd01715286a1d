import TailorRuntime

/// The reference benchmark's model (../shared/bench/training/gpt_train_bench.py):
/// GPT-2 style, pre-LayerNorm, learned positions, fused QKV with bias, causal
/// attention, GELU MLP 4×, final LayerNorm, LM head tied to the token embedding.
struct GPTConfig {
    var vocab: Int, context: Int, width: Int, layers: Int, heads: Int

    static let s = GPTConfig(vocab: 512, context: 128, width: 128, layers: 4, heads: 4)
    static let m = GPTConfig(vocab: 4096, context: 256, width: 384, layers: 6, heads: 6)
}

/// A linear layer with an optional LoRA adapter: y = x·W + b + (α/r)·(x·A)·B.
final class Linear {
    let weight: Tensor  // (In, Out)
    let bias: Tensor  // (Out)
    var loraA: Tensor?  // (In, r)
    var loraB: Tensor?  // (r, Out)
    var loraScale: Float = 1

    init(_ inputs: Int, _ outputs: Int, rng: Philox) {
        weight = Tensor.randomNormal([inputs, outputs], std: 0.02, rng: rng).requiringGrad()
        bias = Tensor(zeros: [outputs], requiresGrad: true)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var y = x.matmul(weight) + bias
        if let a = loraA, let b = loraB { y = y + x.matmul(a).matmul(b) * loraScale }
        return y
    }
}

final class Block {
    let ln1w: Tensor, ln1b: Tensor, ln2w: Tensor, ln2b: Tensor
    let qkv: Linear, proj: Linear, fc: Linear, fcProj: Linear

    init(_ c: GPTConfig, rng: Philox, layer: Int) {
        ln1w = Tensor(repeating: 1, shape: [c.width], requiresGrad: true)
        ln1b = Tensor(zeros: [c.width], requiresGrad: true)
        ln2w = Tensor(repeating: 1, shape: [c.width], requiresGrad: true)
        ln2b = Tensor(zeros: [c.width], requiresGrad: true)
        let base = UInt64(layer) * 8
        qkv = Linear(c.width, 3 * c.width, rng: Philox(seed: rng.seed, stream: base + 1))
        proj = Linear(c.width, c.width, rng: Philox(seed: rng.seed, stream: base + 2))
        fc = Linear(c.width, 4 * c.width, rng: Philox(seed: rng.seed, stream: base + 3))
        fcProj = Linear(4 * c.width, c.width, rng: Philox(seed: rng.seed, stream: base + 4))
    }

    var parameters: [Tensor] {
        [ln1w, ln1b, ln2w, ln2b] + [qkv, proj, fc, fcProj].flatMap { [$0.weight, $0.bias] + [$0.loraA, $0.loraB].compactMap { $0 } }
    }

    func callAsFunction(_ x: Tensor, _ c: GPTConfig) -> Tensor {  // x: (B, T, C)
        let b = x.shape[0], t = x.shape[1], d = c.width / c.heads
        let parts = qkv(x.layerNorm(weight: ln1w, bias: ln1b)).split(sizes: [c.width, c.width, c.width], axis: 2)
        let (q, k, v) = (heads(parts[0], b, t, c.heads, d), heads(parts[1], b, t, c.heads, d), heads(parts[2], b, t, c.heads, d))
        let attended = Tensor.attention(q, k, v)  // (B, H, T, D) over (B, T, H, D) storage
        let merged = attended.permuted([0, 2, 1, 3]).reshaped([b, t, c.width])
        let h = x + proj(merged)
        return h + fcProj(fc(h.layerNorm(weight: ln2w, bias: ln2b)).gelu())
    }

    func heads(_ x: Tensor, _ b: Int, _ t: Int, _ h: Int, _ d: Int) -> Tensor {
        x.reshaped([b, t, h, d]).permuted([0, 2, 1, 3])  // (B, H, T, D)
    }
}

final class GPT {
    let config: GPTConfig
    let wte: Tensor, wpe: Tensor, lnfw: Tensor, lnfb: Tensor
    let blocks: [Block]

    init(_ c: GPTConfig, seed: UInt64) {
        config = c
        wte = Tensor.randomNormal([c.vocab, c.width], std: 0.02, rng: Philox(seed: seed, stream: 1000)).requiringGrad()
        wpe = Tensor.randomNormal([c.context, c.width], std: 0.01, rng: Philox(seed: seed, stream: 1001)).requiringGrad()
        lnfw = Tensor(repeating: 1, shape: [c.width], requiresGrad: true)
        lnfb = Tensor(zeros: [c.width], requiresGrad: true)
        blocks = (0..<c.layers).map { Block(c, rng: Philox(seed: seed), layer: $0) }
    }

    var parameters: [Tensor] { [wte, wpe, lnfw, lnfb] + blocks.flatMap(\.parameters) }

    /// Freezes the base and adds rank-`r` adapters on the query and value projections.
    func addLoRA(rank r: Int, alpha: Float, seed: UInt64) {
        for p in parameters { p.requiringGrad(false) }
        for (i, block) in blocks.enumerated() {
            // Fused QKV: adapters act on the q and v thirds through column-masked B matrices.
            let c = config.width
            block.qkv.loraA = Tensor.randomNormal([c, 2 * r], std: 0.02, rng: Philox(seed: seed, stream: UInt64(i))).requiringGrad()
            block.qkv.loraB = Tensor(zeros: [2 * r, 3 * c], requiresGrad: true)
            block.qkv.loraScale = alpha / Float(r)
        }
    }

    /// Mean next-token cross-entropy of a (B, T) batch.
    func loss(_ ids: [Int32], targets: [Int32], batch: Int) -> Tensor {
        let t = ids.count / batch
        var x = wte.embedding(ids, shape: [batch, t]) + wpe.slice(axis: 0, 0..<t)  // (B, T, C)
        for block in blocks { x = block(x, config) }
        let logits = x.layerNorm(weight: lnfw, bias: lnfb).matmul(wte.transposed())  // (B, T, V)
        return logits.reshaped([-1, config.vocab]).crossEntropy(targets: targets)
    }
}
