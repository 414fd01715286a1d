/// The `models:` section: how a model comes to be, and the one customization a
/// derived model applies to its base.
public enum ModelSchema {
    /// The customization methods of a derived model (`from:`); exactly one per model.
    public static let methods = ["finetune", "lora", "head", "continual", "reward", "dpo", "ppo"]

    public static let model = ObjectSchema(
        "model",
        doc: "A model: built from an architecture (`arch`), loaded from files (`load`), or derived from another model (`from`) by exactly one customization.",
        fields: [
            Field("arch", .choice(Architecture.all.map(\.name)), "architecture of a model built here (see Architectures)"),
            Field("size", .object(size), "dimensions of a model built here"),
            Field("tokenizer", .reference(.tokenizer), "tokenizer of a model built here; derived models keep their base's"),
            Field("init", .object(initialisation), "initialisation of a model built here"),
            Field("pretrain", .object(train), "pretrain a model built here on a corpus"),
            Field("load", .path, "a Hugging Face folder (`config.json` + `*.safetensors`) or a `.gguf` file"),
            Field("from", .reference(.model), "the base model this one is derived from"),
            Field("finetune", .object(finetune), "full or partial fine-tuning of every unfrozen weight"),
            Field("lora", .object(lora), "low-rank adapters on a frozen base"),
            Field("head", .object(head), "a task head on the base (transfer learning)"),
            Field("continual", .object(continual), "fine-tuning over an ordered list of tasks with forgetting mitigation"),
            Field("reward", .object(reward), "a reward model: a scalar head trained on preference pairs"),
            Field("dpo", .object(dpo), "direct preference optimisation on preference pairs"),
            Field("ppo", .object(ppo), "PPO against a reward model with a KL penalty to the base"),
            Field("train", .object(train), "training settings of the customization"),
        ],
        rules: [
            .exactlyOne(["arch", "load", "from"]),
            .needs("size", oneOf: ["arch"]), .needs("init", oneOf: ["arch"]),
            .needs("pretrain", oneOf: ["arch"]),
            .exactlyOne(methods, when: "from"),
        ] + methods.map { .needs($0, oneOf: ["from"]) } + [.needs("train", oneOf: ["from"])])

    static let size = ObjectSchema(
        "size", doc: "Model dimensions.",
        fields: [
            Field("layers", .int(min: 1, max: 256), required: true, "transformer blocks"),
            Field("width", .int(min: 8, max: 65_536), required: true, "embedding width (d_model)"),
            Field("heads", .int(min: 1, max: 1024), required: true, "attention heads; must divide `width`"),
            Field("kv_heads", .int(min: 1, max: 1024), "key/value heads for grouped-query attention (llama); must divide `heads`; default `heads`"),
            Field("context", .int(min: 8, max: 1_048_576), required: true, "longest sequence in tokens"),
            Field("mlp", .int(min: 8, max: 1_048_576), "hidden width of the MLP; default 4×width (gpt2, bert) or about 8/3×width rounded to 64 (llama)"),
        ])

    static let initialisation = ObjectSchema(
        "init", doc: "Weight initialisation.",
        fields: [
            Field("std", .number(min: 0, max: 1, minExclusive: true), default: .number(0.02), "standard deviation of the normal initialisation"),
        ])

    /// Training settings shared by pretraining and every customization.
    public static let train = ObjectSchema(
        "training settings", doc: "Training settings (`pretrain:` and `train:`).",
        fields: [
            Field("data", .reference(.data), "training dataset (its format must suit the method); required except for `continual`, which trains on its tasks"),
            Field("steps", .int(min: 1, max: 100_000_000), "optimizer steps; exactly one of `steps` and `epochs`"),
            Field("epochs", .int(min: 1, max: 100_000), "passes over the training data instead of `steps`: ⌈epochs × examples ÷ (batch × accumulate)⌉ steps, examples counted after packing"),
            Field("batch", .int(min: 1, max: 65_536), default: .int(8), "sequences per step"),
            Field("sequence", .int(min: 2, max: 1_048_576), "tokens per sequence; default the model's context"),
            Field("lr", .number(min: 0, max: 10, minExclusive: true), default: .number(3e-4), "peak learning rate"),
            Field("schedule", .choice(["constant", "linear", "cosine"]), default: .string("cosine"), "learning-rate schedule after warmup"),
            Field("warmup", .int(min: 0, max: nil), default: .int(0), "linear warmup steps"),
            Field("optimizer", .choice(["adamw", "sgd"]), default: .string("adamw"), "AdamW (decoupled weight decay) or SGD with momentum 0.9"),
            Field("weight_decay", .number(min: 0, max: 1, minExclusive: false), default: .number(0), "decoupled weight decay"),
            Field("grad_clip", .number(min: 0, max: nil, minExclusive: false), default: .number(1), "clip the global gradient norm to this; 0 turns clipping off"),
            Field("accumulate", .int(min: 1, max: 4096), default: .int(1), "micro-batches per optimizer step"),
            Field("packing", .bool, default: .bool(false), "pack several examples per sequence (attention and positions reset at boundaries); language-model training only"),
            Field("train_on_inputs", .bool, default: .bool(false), "also compute the loss on prompt tokens (instruction and chat data); language-model training only"),
            Field("eval", .object(trainEval), "periodic evaluation during training"),
            Field("checkpoint_every", .int(min: 1, max: nil), default: .int(100), "steps between resumable checkpoints"),
        ],
        rules: [.exactlyOne(["steps", "epochs"])])

    static let trainEval = ObjectSchema(
        "train eval", doc: "Evaluation during training, for early stopping and best-checkpoint selection.",
        fields: [
            Field("data", .reference(.data), required: true, "held-out dataset"),
            Field("every", .int(min: 1, max: nil), default: .int(100), "steps between evaluations"),
            Field("patience", .int(min: 1, max: nil), "stop after this many evaluations without improvement"),
        ])

    static let finetune = ObjectSchema(
        "finetune", doc: "Full fine-tuning; partial when some modules are frozen.",
        fields: [
            Field("freeze", .list(.string, minCount: 0), default: .list([]), "module names or patterns kept frozen, e.g. `[embed, \"layers.0.*\"]`"),
        ])

    public static let lora = ObjectSchema(
        "lora", doc: "Low-rank adapters: W + (alpha / rank) · B·A on each target; the base stays frozen.",
        fields: [
            Field("rank", .int(min: 1, max: 4096), default: .int(8), "rank r of the adapters"),
            Field("alpha", .number(min: 0, max: nil, minExclusive: true), "scaling numerator; default `2 × rank`"),
            Field("dropout", .number(min: 0, max: 1, minExclusive: false), default: .number(0), "dropout on the adapter input"),
            Field("targets", .list(.string, minCount: 1), default: .list([.init(.string("attn.q"), at: nil), .init(.string("attn.v"), at: nil)]),
                  "modules to adapt: names such as `attn.q`, patterns such as `attn.*`, or `all`"),
            Field("rslora", .bool, default: .bool(false), "scale by alpha / √rank (rank-stabilised LoRA)"),
            Field("load", .path, "start from an adapter in Hugging Face PEFT's layout (a folder with `adapter_config.json` and `adapter_model.safetensors`); its rank, alpha and targets come from the file, and without `train` the model is the base with that adapter"),
        ],
        rules: [.atMostOne(["load", "rank"]), .atMostOne(["load", "alpha"]), .atMostOne(["load", "targets"]), .atMostOne(["load", "rslora"])])

    static let head = ObjectSchema(
        "head", doc: "A classification head on the base model's pooled features.",
        fields: [
            Field("labels", .int(min: 2, max: 100_000), "number of classes; default the labels found in the training data"),
            Field("pooling", .choice(["mean", "last", "first"]), default: .string("mean"), "how token features become one vector"),
            Field("freeze", .choice(["backbone", "none"]), default: .string("backbone"), "train only the head, or the whole model"),
            Field("unfreeze", .list(.string, minCount: 1),
                  "backbone modules that train with the head although the backbone is frozen, by name or pattern (`layers.5.*`: the top block of a 6-layer encoder): a partially frozen backbone"),
        ])

    static let continual = ObjectSchema(
        "continual", doc: "Fine-tune on each task in order, one node per stage, each from the one before; the `train` settings apply to every stage. Score it with the `forgetting` metric.",
        fields: [
            Field("tasks", .list(.reference(.data), minCount: 2), required: true, "the tasks' training sets, in training order"),
            Field("lora", .object(adapter),
                  "train one LoRA adapter on the frozen base through every stage instead of every weight (each stage goes on training the adapter the stage before left); the mitigations act on the adapter's weights"),
            Field("mitigation", .object(mitigation), "how to limit forgetting of earlier tasks; default none"),
        ])

    static let mitigation = ObjectSchema(
        "mitigation", doc: "Forgetting mitigation. Replay, one pull towards the starting weights (L2-SP or EWC) and LwF combine: each later stage trains on its task's examples and the replayed ones, with the pull and the distillation term added to its loss. An adapter per task stands alone.",
        fields: [
            Field("replay", .number(min: 0, max: 1, minExclusive: true), "share of each later stage's examples drawn from the earlier tasks (below 1)"),
            Field("replay_examples", .int(min: 1, max: 100_000_000), "how many of the earlier tasks' examples each later stage adds to its own, instead of a share"),
            Field("ewc", .number(min: 0, max: nil, minExclusive: true), "EWC's λ: λ/2·Σ F·(θ − θ_start)², F the earlier stages' Fisher information summed (decayed by `gamma`; each its own cached node), θ_start the weights each stage starts from"),
            Field("gamma", .number(min: 0, max: 1, minExclusive: true),
                  "online EWC's γ (Schwarz et al. 2018): the stage k stages back has its Fisher information weighted by γ^(k−1), so older tasks' importance decays (three tasks or more); when not given, 1: every earlier stage's counted in full"),
            Field("l2", .number(min: 0, max: nil, minExclusive: true), "L2-SP: α/2·‖θ − θ_start‖² added to the loss, θ_start the weights each stage starts from"),
            Field("lwf", .object(lwf), "Learning without Forgetting: distillation towards the model as each stage starts, on the new task's inputs (and the replayed examples', with replay)"),
            Field("adapters", .object(taskAdapters), "a fresh LoRA adapter per task on the frozen base, chosen by task when scored (no shared weight changes), or merged into it"),
        ],
        rules: [.atMostOne(["replay", "replay_examples"]), .atMostOne(["ewc", "l2"]), .alone("adapters"), .needs("gamma", oneOf: ["ewc"])])

    static let taskAdapters = ObjectSchema(
        "adapters", doc: "An adapter per task: each stage trains a fresh LoRA adapter (W + (alpha / rank) · B·A) on the frozen base, on its own task only. The forgetting matrix scores each task with its own adapter once it is trained (the base before, and for the general column), so nothing is forgotten by construction; with `merge`, stage i is the base with adapters 1…i folded into its weights, one model for every task, scored as it is.",
        fields: adapter.fields + [
            Field("merge", .bool, default: .bool(false), "fold each task's adapter into the weights (adding it to the earlier ones') instead of choosing one by task"),
        ])

    static let lwf = ObjectSchema(
        "lwf", doc: "Learning without Forgetting (Li & Hoiem 2017): each later stage adds `weight` × T² × the cross-entropy from the stage's starting model's softened next-token distribution (temperature T) to its own, at every answer position of the new task.",
        fields: [
            Field("weight", .number(min: 0, max: nil, minExclusive: true), default: .number(1), "weight of the distillation term against the task's loss"),
            Field("temperature", .number(min: 0, max: nil, minExclusive: true), default: .number(2), "softmax temperature T of both distributions"),
        ])

    static let reward = ObjectSchema(
        "reward", doc: "Reward model training on preference pairs (Bradley–Terry loss).",
        fields: [
            Field("pooling", .choice(["last", "mean"]), default: .string("last"), "which token's features the scalar head reads"),
            Field("margin", .number(min: 0, max: nil, minExclusive: false), default: .number(0), "margin added to the chosen–rejected difference"),
            Field("lora", .object(adapter), "train LoRA adapters on the frozen decoder, with the head, instead of every weight"),
        ])

    static let dpo = ObjectSchema(
        "dpo", doc: "Direct preference optimisation against a frozen reference model, whose log-probabilities of every pair are computed once (a `dpo.reference` node).",
        fields: [
            Field("beta", .number(min: 0, max: nil, minExclusive: true), default: .number(0.1), "strength of the implicit KL constraint"),
            Field("loss", .choice(["sigmoid", "ipo"]), default: .string("sigmoid"),
                  "`sigmoid`: DPO's −log σ(β·h), h the policy's log-probability margin of chosen over rejected minus the reference's; `ipo`: (h − 1/(2β))² on per-token log-probabilities (TRL's loss types)"),
            Field("label_smoothing", .number(min: 0, max: 0.5, minExclusive: false), default: .number(0),
                  "probability ε that a pair's preference is flipped (conservative DPO); `loss: sigmoid` only"),
            Field("reference", .reference(.model), "frozen reference policy; default the base model (`from`)"),
            Field("lora", .object(adapter), "train LoRA adapters on the frozen policy instead of every weight"),
        ])

    /// A method's own adapters (preference tuning, continual): `lora:` without `load`.
    static let adapter = ObjectSchema(
        "adapter", doc: "LoRA adapters a method trains on a frozen base: W + (alpha / rank) · B·A.",
        fields: lora.fields.filter { $0.name != "load" })

    static let ppo = ObjectSchema(
        "ppo", doc: "Proximal policy optimisation against a reward model.",
        fields: [
            Field("reward", .reference(.model), required: true, "the reward model scoring generated answers"),
            Field("kl", .number(min: 0, max: nil, minExclusive: false), default: .number(0.05),
                  "coefficient of the per-token KL penalty β·(log π − log π_ref) towards the base policy (the starting one with `target_kl`)"),
            Field("target_kl", .number(min: 0, max: nil, minExclusive: true),
                  "adapt the KL coefficient towards this KL per response, in nats (Ziegler et al.'s controller); default a fixed coefficient"),
            Field("horizon", .int(min: 1, max: nil), default: .int(10_000), "rollouts over which the adaptive controller closes the gap to `target_kl`"),
            Field("clip", .number(min: 0, max: 1, minExclusive: true), default: .number(0.2), "PPO ratio clipping ε: ratios outside [1 − ε, 1 + ε] get no gradient"),
            Field("value_clip", .number(min: 0, max: nil, minExclusive: true), default: .number(0.2), "clipping of the value head's update around its rollout values"),
            Field("value_coef", .number(min: 0, max: nil, minExclusive: false), default: .number(0.1), "weight of the value loss beside the policy loss"),
            Field("value_lr", .number(min: 0, max: nil, minExclusive: true), default: .number(1e-3),
                  "peak learning rate of the value head, on `train`'s schedule: a fresh head must reach the reward's scale in a few hundred steps, which the policy's rate is too small for"),
            Field("gamma", .number(min: 0, max: 1, minExclusive: false), default: .number(1), "discount over response tokens"),
            Field("lambda", .number(min: 0, max: 1, minExclusive: false), default: .number(0.95), "GAE's λ"),
            Field("epochs", .int(min: 1, max: 64), default: .int(4), "optimizer steps per batch of rollouts (`train.steps` counts optimizer steps)"),
            Field("max_tokens", .int(min: 1, max: 65_536), default: .int(32), "longest generated answer"),
            Field("temperature", .number(min: 0, max: 10, minExclusive: true), default: .number(1), "sampling temperature of rollouts"),
            Field("lora", .object(adapter), "train LoRA adapters on the frozen policy (the reference is the policy without them) instead of every weight"),
        ])
}
