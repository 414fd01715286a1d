import TailorSpec

/// Static cost estimates from dimensions alone: parameter counts, FLOPs (the usual
/// 2 FLOPs per multiply-add; training = forward + backward), and peak float32 memory.
enum Estimator {
    /// Weight shapes (inputs, outputs) of one block's modules, by stable module name.
    static func modules(_ d: Dimensions, arch: Architecture) -> [String: (Int, Int)] {
        let kvWidth = d.width / max(1, d.heads) * d.kvHeads
        var m: [String: (Int, Int)] = [
            "attn.q": (d.width, d.width), "attn.k": (d.width, kvWidth), "attn.v": (d.width, kvWidth),
            "attn.o": (d.width, d.width), "mlp.up": (d.width, d.mlp), "mlp.down": (d.mlp, d.width),
        ]
        if arch.name == "llama" { m["mlp.gate"] = (d.width, d.mlp) }
        return m
    }

    /// Parameters of the matrices that every token multiplies through (the blocks and the head).
    static func matmulParameters(_ d: Dimensions, arch: Architecture) -> Int {
        let perLayer = modules(d, arch: arch).values.reduce(0) { $0 + $1.0 * $1.1 }
        let head = arch.family == .decoder ? (d.vocab ?? 0) * d.width : 0
        return d.layers * perLayer + head
    }

    static func parameters(_ d: Dimensions, arch: Architecture) -> Int {
        let v = d.vocab ?? 0
        let mods = modules(d, arch: arch)
        let weights = mods.values.reduce(0) { $0 + $1.0 * $1.1 }
        let biasesAndNorms: Int
        switch arch.name {
        case "llama": biasesAndNorms = 2 * d.width
        default: biasesAndNorms = mods.values.reduce(0) { $0 + $1.1 } + 4 * d.width
        }
        let embeddings = v * d.width + (arch.name == "llama" ? 0 : d.context * d.width)
        let head = d.tiedHead ? 0 : v * d.width
        let final = arch.name == "llama" ? d.width : 2 * d.width
        return embeddings + d.layers * (weights + biasesAndNorms) + head + final
    }

    static func model(_ d: Dimensions?, arch: Architecture) -> Estimate {
        var e = Estimate()
        guard let d, d.vocab != nil else { return e }
        let n = parameters(d, arch: arch)
        e.parameters = n
        e.trainable = 0
        e.weightsBytes = Double(n) * 4
        return e
    }

    /// Parameters trained by a method: everything, adapters only, or a head. `params` are the
    /// node's, read through its kind's parameters type.
    static func trainable(_ d: Dimensions, arch: Architecture, kind: NodeKind, params: Value) -> Int {
        let all = parameters(d, arch: arch)
        let mods = modules(d, arch: arch)
        func matching(_ patterns: [String]) -> [(Int, Int)] {
            mods.filter { name, _ in
                patterns.contains { p in
                    let bare = p.split(separator: ".").filter { Int($0) == nil && $0 != "layers" }.joined(separator: ".")
                    return p == "all" || Glob.matches(bare.isEmpty ? "*" : bare, name)
                }
            }.map(\.value)
        }
        func adapters(rank: Int, targets: [String]) -> Int { d.layers * matching(targets).reduce(0) { $0 + rank * ($1.0 + $1.1) } }
        switch kind {
        case .trainLoRA:
            guard let lora = try? LoRAParameters(plan: params) else { return 0 }
            // An imported adapter's shape is in its file, which planning does not read: it is
            // estimated with the schema's default shape.
            if let shape = lora.adapter { return adapters(rank: shape.rank, targets: shape.targets) }
            func schemaDefault(_ name: String) -> Value? { ModelSchema.lora.field(name)?.defaultValue.map { Value($0, at: nil) } }
            return adapters(rank: schemaDefault("rank")?.int ?? 0, targets: schemaDefault("targets")?.list?.compactMap(\.string) ?? [])
        case .trainHead:
            guard let head = try? HeadParameters(plan: params) else { return 0 }
            let labels = head.labels ?? 2  // the data's labels, unknown until it is read: estimated as 2
            let weights = d.width * labels + labels
            return head.trainsBackbone ? all + weights : weights
        case .trainReward:
            guard let lora = (try? RewardParameters(plan: params))?.lora else { return all + d.width + 1 }
            return adapters(rank: lora.rank, targets: lora.targets) + d.width + 1
        case .trainDPO:
            guard let lora = (try? DPOParameters(plan: params))?.lora else { return all }
            return adapters(rank: lora.rank, targets: lora.targets)
        case .trainPPO:  // and the value head
            guard let lora = (try? PPOParameters(plan: params))?.lora else { return all + d.width + 1 }
            return adapters(rank: lora.rank, targets: lora.targets) + d.width + 1
        case .trainContinual:
            guard let c = try? ContinualParameters(plan: params), let shape = c.adapters?.shape ?? c.lora else { return all }
            return adapters(rank: shape.rank, targets: shape.targets)
        case .trainFinetune:
            let frozen = (try? FinetuneParameters(plan: params))?.freeze ?? []
            // A pattern naming a layer index (`layers.0.*`) freezes that layer only.
            let frozenBlocks = frozen.reduce(0) { total, pattern in
                let layers = pattern.split(separator: ".").contains { Int($0) != nil } ? 1 : d.layers
                return total + layers * matching([pattern]).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let frozenEmbed = frozen.contains("embed") ? (d.vocab ?? 0) * d.width : 0
            return max(0, all - frozenBlocks - frozenEmbed)
        default:
            return all
        }
    }

    /// Floats a training step keeps per token and layer for the backward pass: norms, Q, K, V,
    /// attention output and residuals (9 × width), the MLP's hidden tensors (GPT-2: the product
    /// and its GELU; Llama: gate, its SiLU, up and their product, plus Q and K after rotation),
    /// and the attention probabilities (heads × T).
    static func savedPerTokenLayer(_ d: Dimensions, arch: Architecture, sequence t: Int) -> Double {
        let kvWidth = d.width / max(1, d.heads) * d.kvHeads
        let mlp = arch.name == "llama" ? 4 * d.mlp + d.width + kvWidth : 2 * d.mlp
        return Double(9 * d.width + mlp + d.heads * t)
    }

    /// Forward FLOPs per token at sequence length `t`: the matmuls plus attention scores
    /// and weighted sums (causal: half of T per token on average, for Q·Kᵀ and P·V).
    static func forwardFLOPsPerToken(_ d: Dimensions, arch: Architecture, sequence t: Int) -> Double {
        2 * Double(matmulParameters(d, arch: arch)) + 2 * Double(d.layers) * Double(t) * Double(d.width)
    }

    /// `rows`: examples in the training data, when known (a head on a frozen backbone reads
    /// each once: their features are computed once, not at every step); `lengths`: their
    /// tokens, from a sample. Unpacked rows are as wide as their batch's longest example, so
    /// with a sample, tokens follow its mean batch width and memory its longest example; without
    /// one (or packed), rows are as wide as `sequence` or the context.
    static func training(_ d: Dimensions?, arch: Architecture, kind: NodeKind, params: Value,
                         rows: Int? = nil, lengths: TokenLengths? = nil) -> Estimate
    {
        var e = model(d, arch: arch)
        guard let d, d.vocab != nil, let trainValue = params["train"], let train = try? TrainParameters(Params(trainValue)) else { return e }
        let n = parameters(d, arch: arch)
        let trainable = trainable(d, arch: arch, kind: kind, params: params)
        e.trainable = trainable
        let (batch, accumulate, width) = (train.batch, train.accumulate, train.width(context: d.context))
        // A row's inputs are an example's tokens but the last (which is only a target).
        let sampled = train.packing ? nil : lengths
        let t = sampled.map { min(width, max(1, Int($0.batchWidth(batch).rounded(.up)) - 1)) } ?? width
        let widest = sampled.map { min(width, max(1, $0.longest - 1)) } ?? width
        // Packed, an epoch is the examples' tokens cut into full rows.
        var examples = rows
        if train.packing, let rows, let lengths { examples = max(1, Int(Double(rows) * lengths.mean) / width) }
        // Memory does not depend on how long training runs.
        let optimizerFloats = train.optimizer == "sgd" ? 1.0 : 2.0
        e.gradientBytes = Double(trainable) * 4
        e.optimizerBytes = Double(trainable) * 4 * optimizerFloats
        // PPO holds the reference and the reward model beside the policy (with LoRA the
        // reference is the policy without its adapters: two copies, not three); DPO reads its
        // reference's log-probabilities from their own node.
        if kind == .trainPPO { e.weightsBytes = (e.weightsBytes ?? 0) * (trainable < n ? 2 : 3) }
        // Saved activations per token and layer, then the logits and their gradient.
        let perLayer = savedPerTokenLayer(d, arch: arch, sequence: widest)
        // A reward model's or DPO's batch reads each pair's chosen and rejected sequence together.
        let sides = kind == .trainReward || kind == .trainDPO ? 2 : 1
        let micro = Double(sides * batch * widest)
        e.activationBytes = 4 * micro * (Double(d.layers) * perLayer + 2 * Double(d.vocab ?? 0))
        // Epochs count examples (packed rows, when packing): without them, no tokens or FLOPs.
        guard let steps = train.steps(examples: examples) else { return e }
        // In Double: the schema allows values whose product overflows Int.
        let tokens = Double(steps) * Double(sides * batch) * Double(accumulate) * Double(t)
        e.tokens = tokens < 9e18 ? Int(tokens) : nil
        let forward = forwardFLOPsPerToken(d, arch: arch, sequence: t)
        // Full training: forward + backward (2× forward). Frozen weights skip their weight
        // gradients, which saves a third of the backward for adapters and heads.
        let adapterOnly = kind == .trainLoRA || ([.trainHead, .trainDPO, .trainReward, .trainPPO, .trainContinual].contains(kind) && trainable < n)
        var perToken = adapterOnly ? 2 * forward : 3 * forward
        if kind == .trainHead, trainable < n { perToken = forward }
        // Once per batch of rollouts (every `ppo.epochs` steps) PPO generates, and reads the
        // responses with the policy, the reference and the reward model: four forward passes.
        if kind == .trainPPO { perToken += forward * 4 / Double((try? PPOParameters(plan: params))?.epochs ?? 1) }
        e.flops = tokens * perToken
        if kind == .trainHead, trainable < n, (try? HeadParameters(plan: params))?.unfreeze.isEmpty == true, let rows {
            // Features once per example, in blocks of 32, holding one layer's activations at a time.
            e.tokens = rows * t
            e.flops = Double(rows) * Double(t) * forward
            e.activationBytes = 4 * Double(32 * widest) * savedPerTokenLayer(d, arch: arch, sequence: widest)
        }
        return e
    }

    /// An evaluation of `rows` examples in batches of 16, as `eval.lm` runs them. Generation
    /// (`max_tokens`) reads each batch's prompts (padded to the longest) and then writes up to
    /// `max_tokens` tokens one at a time, holding the keys and values of both; each of those
    /// steps streams every weight for a few tokens, which memory bandwidth, not FLOPs, bounds
    /// (a batch that finishes early stops sooner: an upper bound); scoring (loss,
    /// perplexity) reads whole examples once, holding a batch's logits and their softmax
    /// (`logits`; a classifier holds a layer's activations instead).
    /// `lengths`: the examples' tokens through the eval's prompt, from a sample; without one,
    /// rows are as long as the context.
    static func inference(_ d: Dimensions?, arch: Architecture, rows: Int?, lengths: TokenLengths?, maxTokens: Int?, scores: Bool,
                          logits: Bool)
        -> Estimate
    {
        var e = model(d, arch: arch)
        e.lengths = lengths
        guard let d, let vocab = d.vocab, let rows else { return e }
        let batch = 16
        let kvWidth = d.width / max(1, d.heads) * d.kvHeads
        var tokens = 0.0, flops = 0.0, activations = 0.0
        if let maxTokens {
            let prompt = lengths.map { min(Double(d.context), $0.batchWidth(batch, of: \.context)) } ?? Double(d.context)
            let longest = lengths.map { min(d.context, ($0.context.max() ?? 0) + maxTokens) } ?? d.context
            let written = min(Double(maxTokens), Double(d.context) - prompt)
            tokens += Double(rows) * (prompt + written)
            // Attention reads on average half of the keys the row holds by its end.
            let forward = forwardFLOPsPerToken(d, arch: arch, sequence: Int((prompt + written) / 2))
            flops += Double(rows) * (prompt + written) * forward
            activations = 4 * Double(batch) * (Double(2 * d.layers * longest * kvWidth) + Double(vocab))
            // Each decode step of a batch reads every weight for one token per row.
            let steps = Double((rows + batch - 1) / batch) * max(0, written)
            e.streamedBytes = steps * Double(parameters(d, arch: arch)) * 4
            e.streamedFLOPs = Double(rows) * max(0, written) * forward
        }
        if scores {
            let width = lengths.map { min(Double(d.context), $0.batchWidth(batch)) } ?? Double(d.context)
            let longest = lengths.map { min(d.context, $0.longest) } ?? d.context
            tokens += Double(rows) * width
            flops += Double(rows) * width * forwardFLOPsPerToken(d, arch: arch, sequence: Int(width / 2))
            // A language model's logits and their softmax; a classifier's one layer at a time.
            let perToken = logits ? 2 * Double(vocab) : Double(9 * d.width + 2 * d.mlp + d.heads * longest)
            activations = max(activations, 4 * Double(batch * longest) * perToken)
        }
        guard tokens > 0 else { return e }
        e.tokens = tokens < 9e18 ? Int(tokens) : nil
        e.flops = flops
        e.activationBytes = activations
        return e
    }
}
