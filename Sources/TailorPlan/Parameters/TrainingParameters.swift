import TailorSpec

/// The `train` (or `pretrain`) settings every training kind shares.
public struct TrainParameters: Sendable {
    /// How long training runs: optimizer steps, or passes over the training examples.
    public enum Length: Sendable, Equatable {
        case steps(Int), epochs(Int)
    }

    public var length: Length
    public var batch: Int, accumulate: Int
    public var lr: Double, warmup: Int
    /// `constant`, `linear` or `cosine` after the warmup.
    public var schedule: String
    /// `adamw` or `sgd`.
    public var optimizer: String
    public var weightDecay: Double, gradClip: Double
    public var checkpointEvery: Int
    /// Held-out evaluation during training: every `every` steps, stopping after `patience`
    /// evaluations without improvement when set.
    public var eval: (every: Int, patience: Int?)?
    /// Tokens per row; nil: the model's context.
    public var sequence: Int?
    public var packing: Bool, trainOnInputs: Bool

    public init(_ p: Params) throws {
        if let epochs = p.optional("epochs", \.int) {
            length = .epochs(epochs)
        } else {
            length = .steps(try p.required("steps", \.int))
        }
        batch = try p.required("batch", \.int)
        accumulate = try p.required("accumulate", \.int)
        lr = try p.required("lr", \.number)
        warmup = try p.required("warmup", \.int)
        schedule = try p.required("schedule", \.string)
        optimizer = try p.required("optimizer", \.string)
        weightDecay = try p.required("weight_decay", \.number)
        gradClip = try p.required("grad_clip", \.number)
        checkpointEvery = try p.required("checkpoint_every", \.int)
        eval = try p["eval"].map { (try $0.required("every", \.int), $0.optional("patience", \.int)) }
        sequence = p.optional("sequence", \.int)
        packing = try p.required("packing", \.bool)
        trainOnInputs = try p.required("train_on_inputs", \.bool)
    }

    /// Optimizer steps over `examples` training examples (rows after packing): `steps`, or
    /// ⌈epochs × examples ÷ (batch × accumulate)⌉ and at least 1; nil for epochs over a count
    /// not known yet (a plan over a file it has not read).
    public func steps(examples: Int?) -> Int? {
        switch length {
        case .steps(let n): return n
        case .epochs(let e):
            guard let examples else { return nil }
            let perStep = batch * accumulate
            return Swift.max(1, (e * examples + perStep - 1) / perStep)
        }
    }

    /// Tokens per row for a model of `context`: `sequence`, never past the context (the
    /// checker refuses more where it knows the context).
    public func width(context: Int) -> Int { Swift.min(sequence ?? context, context) }
}

/// train.pretrain: every weight of a fresh model on the next-token objective.
public struct PretrainParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainPretrain]
    public static var version: Int { 2 }  // 2: packed examples no longer see each other
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}

/// train.finetune: every weight not matched by a `freeze` pattern.
public struct FinetuneParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainFinetune]
    public static var version: Int { 3 }  // 2: packed examples no longer see each other; 3: the base's chat template kept
    public var freeze: [String]
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        freeze = try p.required("finetune").required("freeze", \.strings)
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}

/// train.continual: one stage of a continual model, fine-tuned on its task from the stage
/// before (every weight, or one adapter through every stage), with its mitigations: replay,
/// one pull (L2-SP or EWC) and LwF in any combination, or an adapter per task alone (none on
/// the first stage, but an adapter per task).
public struct ContinualParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainContinual]
    /// The adapter every stage goes on training, instead of every weight.
    public var lora: AdapterSettings?
    /// Share of the stage's examples drawn from the earlier tasks, or how many are.
    public var replay: Double?, replayExamples: Int?
    /// L2-SP's α, EWC's λ, and online EWC's decay γ of older stages' Fisher information.
    public var l2: Double?, ewc: Double?, gamma: Double
    /// Learning without Forgetting's weight and temperature.
    public var lwf: (weight: Double, temperature: Double)?
    /// A fresh adapter for this stage's task on the base, and whether it is folded into the
    /// stage before's weights.
    public var adapters: (shape: AdapterSettings, merge: Bool)?
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        lora = try p["continual"]?["lora"].map(AdapterSettings.init)
        let mitigation = p["continual"]?["mitigation"]  // none on a first stage
        replay = mitigation?.optional("replay", \.number)
        replayExamples = mitigation?.optional("replay_examples", \.int)
        l2 = mitigation?.optional("l2", \.number)
        ewc = mitigation?.optional("ewc", \.number)
        gamma = mitigation?.optional("gamma", \.number) ?? 1
        if let l = mitigation?["lwf"] { lwf = (try l.required("weight", \.number), try l.required("temperature", \.number)) }
        if let a = mitigation?["adapters"] { adapters = (try AdapterSettings(a), try a.required("merge", \.bool)) }
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}

/// ewc.fisher: the diagonal Fisher information of a stage on its task, for EWC.
public struct FisherParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.ewcFisher]
    public var examples: Int
    /// Of the stage's adapter weights only (a continual model with `lora`), not every weight.
    public var adapters: Bool

    public init(_ p: Params) throws {
        examples = try p.required("examples", \.int)
        adapters = p.optional("adapters", \.bool) ?? false
    }
}

/// train.lora: adapters on a frozen base, fresh or imported from a PEFT folder (the node's file).
public struct LoRAParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainLoRA]
    // 2: packed examples no longer see each other; 3: the base's chat template kept; 4: a base's own
    // adapters are merged into it before fresh ones are added, not replaced by them
    public static var version: Int { 4 }
    /// A fresh adapter's shape; nil when one is imported (its file defines them).
    public var adapter: (rank: Int, alpha: Double, targets: [String], rsLoRA: Bool)?
    public var dropout: Double
    /// nil: an imported adapter used as it is, without training.
    public var train: TrainParameters?
    public var seed: Int

    public init(_ p: Params) throws {
        let lora = try p.required("lora")
        if lora["rank"] != nil { adapter = try Self.shape(lora) }
        dropout = try lora.required("dropout", \.number)
        train = try p["train"].map(TrainParameters.init)
        seed = try p.required("seed", \.int)
    }

    /// A fresh adapter's shape from a `lora:` object (also a method's nested `lora:`).
    static func shape(_ lora: Params) throws -> (rank: Int, alpha: Double, targets: [String], rsLoRA: Bool) {
        let rank = try lora.required("rank", \.int)
        return (rank, lora.optional("alpha", \.number) ?? Double(2 * rank),  // the schema's default: 2 × rank
                try lora.required("targets", \.strings), try lora.required("rslora", \.bool))
    }
}

/// Adapters a preference method trains instead of every weight (its nested `lora:`).
public struct AdapterSettings: Sendable {
    public var rank: Int, alpha: Double, targets: [String], rsLoRA: Bool
    public var dropout: Double

    init(_ p: Params) throws {
        (rank, alpha, targets, rsLoRA) = try LoRAParameters.shape(p)
        dropout = try p.required("dropout", \.number)
    }
}

/// train.head: a classification head on pooled features, the backbone frozen, partly or not.
public struct HeadParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainHead]
    public static var version: Int { 3 }  // 2: a frozen backbone's features are computed once per example; 3: the base's chat template kept
    /// Classes; nil: the labels the training data has.
    public var labels: Int?
    public var pooling: String
    /// The whole backbone trains with the head (`freeze: none`).
    public var trainsBackbone: Bool
    /// Backbone modules that train although the backbone is frozen.
    public var unfreeze: [String]
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        let head = try p.required("head")
        labels = head.optional("labels", \.int)
        pooling = try head.required("pooling", \.string)
        trainsBackbone = try head.required("freeze", \.string) == "none"
        unfreeze = head["unfreeze"]?.strings ?? []
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}

/// train.reward: a scalar head trained with the whole decoder on preference pairs, by the
/// Bradley–Terry loss.
public struct RewardParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainReward]
    /// `last` or `mean`: which positions' features the head reads.
    public var pooling: String
    /// Subtracted from r_chosen − r_rejected inside the loss (TRL's `margin`).
    public var margin: Double
    /// nil: every decoder weight trains with the head.
    public var lora: AdapterSettings?
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        let reward = try p.required("reward")
        pooling = try reward.required("pooling", \.string)
        margin = try reward.required("margin", \.number)
        lora = try reward["lora"].map(AdapterSettings.init)
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}

/// train.dpo: the policy (every weight, or LoRA adapters) on preference pairs against the
/// reference log-probabilities of its `reference` input (a `dpo.reference` node).
public struct DPOParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainDPO]
    public var beta: Double
    /// `sigmoid` (DPO) or `ipo`.
    public var loss: String
    public var labelSmoothing: Double
    /// nil: every weight trains.
    public var lora: AdapterSettings?
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        let dpo = try p.required("dpo")
        beta = try dpo.required("beta", \.number)
        loss = try dpo.required("loss", \.string)
        labelSmoothing = try dpo.required("label_smoothing", \.number)
        lora = try dpo["lora"].map(AdapterSettings.init)
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}

/// dpo.reference: a frozen model's log-probability of every pair's chosen and rejected answer,
/// for the training data and the held-out data. No parameters: the model and the data are its
/// inputs, so every DPO model over the same reference and pairs (a sweep over β or the learning
/// rate) reads one cached artifact.
public struct DPOReferenceParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.dpoReference]
    public init(_ p: Params) throws {}
}

/// train.ppo: the policy (every weight, or LoRA adapters) against its `reward` input, with a
/// value head, the KL penalty to its base and the clipped objective.
public struct PPOParameters: NodeParameters {
    public static let kinds: [NodeKind] = [.trainPPO]
    public static var version: Int { 2 }  // 2: rollouts drawn over the vocabulary in id order (no sort when nothing is cut)
    public var kl: Double
    /// nil: a fixed KL coefficient.
    public var targetKL: Double?
    public var horizon: Int
    public var clip: Double, valueClip: Double, valueCoef: Double, valueLR: Double
    public var gamma: Double, lambda: Double
    public var epochs: Int, maxTokens: Int, temperature: Double
    public var lora: AdapterSettings?
    public var train: TrainParameters
    public var seed: Int

    public init(_ p: Params) throws {
        let ppo = try p.required("ppo")
        kl = try ppo.required("kl", \.number)
        targetKL = ppo.optional("target_kl", \.number)
        horizon = try ppo.required("horizon", \.int)
        clip = try ppo.required("clip", \.number)
        valueClip = try ppo.required("value_clip", \.number)
        valueCoef = try ppo.required("value_coef", \.number)
        valueLR = try ppo.required("value_lr", \.number)
        gamma = try ppo.required("gamma", \.number)
        lambda = try ppo.required("lambda", \.number)
        epochs = try ppo.required("epochs", \.int)
        maxTokens = try ppo.required("max_tokens", \.int)
        temperature = try ppo.required("temperature", \.number)
        lora = try ppo["lora"].map(AdapterSettings.init)
        train = try TrainParameters(try p.required("train"))
        seed = try p.required("seed", \.int)
    }
}
