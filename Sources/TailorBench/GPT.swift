import TailorRuntime

/// The reference benchmark's model (../shared/bench/training/gpt_train_bench.py):
/// GPT-2 style, pre-LayerNorm, learned positions, fused QKV with bias, causal
/// attention, GELU MLP 4×, final LayerNorm, LM head tied to the token embedding.
struct GPTConfig {
    var vocab: Int, context: Int, width: Int, layers: Int, heads: Int

    static let s = GPTConfig(vocab: 512, context: 128, width: 128, layers: 4, heads: 4)
    static let m = GPTConfig(vocab: 4096, context: 256, width: 384, layers: 6, heads: 6)
}

/// A linear layer: y = x·W + b.
final class Linear {
    let weight: Tensor  // (In, Out)
    let bias: Tensor  // (Out)

    init(_ inputs: Int, _ outputs: Int, rng: Philox) {
        weight = Tensor.randomNormal([inputs, outputs], std: 0.02, rng: rng).requiringGrad()
        bias = Tensor(zeros: [outputs], requiresGrad: true)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight, bias) }
}

/// A LoRA adapter as PEFT builds it: Δ = (α/r)·(x·A)·B, A (In, r) random, B (r, Out) zero.
final class LoRA {
    let a: Tensor, b: Tensor
    let scale: Float

    init(_ inputs: Int, _ outputs: Int, rank: Int, alpha: Float, rng: Philox) {
        a = Tensor.randomNormal([inputs, rank], std: 0.02, rng: rng).requiringGrad()
        b = Tensor(zeros: [rank, outputs], requiresGrad: true)
        scale = alpha / Float(rank)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { x.matmul(a).matmul(b) * scale }
}

final class Block {
    let ln1w: Tensor, ln1b: Tensor, ln2w: Tensor, ln2b: Tensor
    let qkv: Linear, proj: Linear, fc: Linear, fcProj: Linear
    /// Adapters on the query and value projections (the reference's LoRA r8 q,v).
    var loraQ: LoRA?, loraV: LoRA?

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
        [ln1w, ln1b, ln2w, ln2b] + [qkv, proj, fc, fcProj].flatMap { [$0.weight, $0.bias] }
            + [loraQ, loraV].compactMap { $0 }.flatMap { [$0.a, $0.b] }
    }

    func callAsFunction(_ x: Tensor, _ c: GPTConfig) -> Tensor {  // x: (B, T, C)
        let b = x.shape[0], t = x.shape[1], d = c.width / c.heads
        let normed = x.layerNorm(weight: ln1w, bias: ln1b)
        var parts = qkv(normed).split(sizes: [c.width, c.width, c.width], axis: 2)
        if let loraQ { parts[0] = parts[0] + loraQ(normed) }
        if let loraV { parts[2] = parts[2] + loraV(normed) }
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
            let c = config.width
            block.loraQ = LoRA(c, c, rank: r, alpha: alpha, rng: Philox(seed: seed, stream: UInt64(2 * i)))
            block.loraV = LoRA(c, c, rank: r, alpha: alpha, rng: Philox(seed: seed, stream: UInt64(2 * i + 1)))
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
