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
    /// node's, read through its kind's parameters type; `method` the spec's method settings, for
    /// the methods that have no parameters type yet (they do not run).
    static func trainable(_ d: Dimensions, arch: Architecture, kind: NodeKind, params: Value, method: Value?) -> Int {
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
            return all + d.width + 1
        case .trainContinual:
            if let rank = method?["mitigation"]?["adapters"]?.int { return adapters(rank: rank, targets: ["attn.q", "attn.v"]) }
            return all
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

    /// Forward FLOPs per token at sequence length `t`: the matmuls plus attention scores
    /// and weighted sums (causal: half of T per token on average, for Q·Kᵀ and P·V).
    static func forwardFLOPsPerToken(_ d: Dimensions, arch: Architecture, sequence t: Int) -> Double {
        2 * Double(matmulParameters(d, arch: arch)) + 2 * Double(d.layers) * Double(t) * Double(d.width)
    }

    /// `rows`: examples in the training data, when known (a head on a frozen backbone reads
    /// each once: their features are computed once, not at every step).
    static func training(_ d: Dimensions?, arch: Architecture, kind: NodeKind, params: Value, method methodParams: Value?, rows: Int? = nil)
        -> Estimate
    {
        var e = model(d, arch: arch)
        guard let d, d.vocab != nil, let trainValue = params["train"], let train = try? TrainParameters(Params(trainValue)) else { return e }
        let n = parameters(d, arch: arch)
        let trainable = trainable(d, arch: arch, kind: kind, params: params, method: methodParams)
        e.trainable = trainable
        let (batch, accumulate, t) = (train.batch, train.accumulate, train.sequence ?? d.context)
        // Memory does not depend on how long training runs.
        let optimizerFloats = train.optimizer == "sgd" ? 1.0 : 2.0
        e.gradientBytes = Double(trainable) * 4
        e.optimizerBytes = Double(trainable) * 4 * optimizerFloats
        if kind == .trainDPO || kind == .trainPPO { e.weightsBytes = (e.weightsBytes ?? 0) * (kind == .trainPPO ? 3 : 2) }
        // Saved activations per token and layer (float32): norms, QKV, attention output,
        // MLP input and hidden, residuals, plus attention probabilities (H·T);
        // then the logits and their gradient.
        let perLayer = Double(9 * d.width + 2 * d.mlp + d.heads * t)
        let micro = Double(batch * t)
        e.activationBytes = 4 * micro * (Double(d.layers) * perLayer + 2 * Double(d.vocab ?? 0))
        // Epochs count examples: the data's rows where the plan knows them (before packing, which
        // can only make fewer rows); without them, no tokens or FLOPs.
        guard var steps = train.steps(examples: rows) else { return e }
        if kind == .trainContinual { steps *= methodParams?["tasks"]?.list?.count ?? 1 }
        // In Double: the schema allows values whose product overflows Int.
        let tokens = Double(steps) * Double(batch) * Double(accumulate) * Double(t)
        e.tokens = tokens < 9e18 ? Int(tokens) : nil
        let forward = forwardFLOPsPerToken(d, arch: arch, sequence: t)
        // Full training: forward + backward (2× forward). Frozen weights skip their weight
        // gradients, which saves a third of the backward for adapters and heads.
        let adapterOnly = kind == .trainLoRA || (kind == .trainHead && trainable < n)
            || (kind == .trainContinual && methodParams?["mitigation"]?["adapters"] != nil)
        var perToken = adapterOnly ? 2 * forward : 3 * forward
        if kind == .trainHead, trainable < n { perToken = forward }
        // DPO also runs the frozen reference; PPO generates, scores with a reward model and a reference.
        if kind == .trainDPO { perToken += forward * 2 }
        if kind == .trainPPO { perToken += forward * 3 }
        e.flops = tokens * perToken
        if kind == .trainHead, trainable < n, (try? HeadParameters(plan: params))?.unfreeze.isEmpty == true, let rows {
            // Features once per example, in blocks of 32, holding one layer's activations at a time.
            e.tokens = rows * t
            e.flops = Double(rows) * Double(t) * forward
            e.activationBytes = 4 * Double(32 * t) * perLayer
        }
        return e
    }

    static func inference(_ d: Dimensions?, arch: Architecture, rows: Int?, v: Value) -> Estimate {
        var e = model(d, arch: arch)
        guard let d, d.vocab != nil, let rows else { return e }
        let tokens = Double(rows) * Double(d.context)
        e.tokens = tokens < 9e18 ? Int(tokens) : nil
        e.flops = tokens * forwardFLOPsPerToken(d, arch: arch, sequence: d.context)
        let kvWidth = d.width / max(1, d.heads) * d.kvHeads
        e.activationBytes = 4 * Double(2 * d.layers * d.context * kvWidth + d.context * (d.vocab ?? 0))
        return e
    }
}
