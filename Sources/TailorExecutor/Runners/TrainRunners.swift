import Foundation
import TailorEngine
import TailorPlan
import TailorModels
import TailorRuntime
import TailorSpec
import TailorTraining

/// train.pretrain, train.finetune and train.lora: the model set up for its method, then
/// trained by the one `Trainer` on the next-token objective.
enum TrainRunners {
    /// Pretraining and fine-tuning update every weight not frozen by a `freeze` pattern; LoRA
    /// freezes the base and trains adapters on its `targets`. With an eval set (`train.eval`),
    /// the eval loss is measured every `every` steps, training stops after `patience` evals
    /// without improvement, and the best weights are kept.
    static func train(_ ctx: NodeContext) throws {
        let method = try Method(ctx)
        let base = try ctx.input(.base).artifact
        let (model, tokenizer) = try ModelRunners.load(base)
        let chatTemplate = ArtifactTokenizer.chatTemplateSource(base)  // a tuned model is prompted as its base
        guard let trainInput = ctx.inputs(.data).first, let p = method.train else {
            guard case .lora(let lora) = method, !ctx.node.files.isEmpty else { throw ExecutionError.noTrainingData }
            _ = try adapters(lora, on: model, ctx)  // `lora.load` without `train`: the base with the imported adapter
            return try ModelRunners.save(model, tokenizer: tokenizer, into: ctx.output, chatTemplate: chatTemplate)
        }
        let tokens = try TokenArrays.read(trainInput.artifact.path("tokens.bin"))
        let heldOut = try ctx.inputs(.heldOut).first.map { try TokenArrays.read($0.artifact.path("tokens.bin")) }
        model.makeTrainable()
        let parameters = switch method {
        case .lora(let lora): try adapters(lora, on: model, ctx)
        case .pretrain: try unfrozen([], of: model)
        case .finetune(let finetune): try unfrozen(finetune.freeze, of: model)
        }
        var objective = try LanguageModelObjective(model: model, parameters: parameters, tokens: tokens, heldOut: heldOut,
                                                   sequence: p.sequence, packing: p.packing, trainOnInputs: p.trainOnInputs)
        let summary = try train(&objective, try TrainingSettings(p, examples: objective.rowsPerEpoch), ctx, rate: "tokens")
        (model as? Adaptable)?.adapters.dropout = 0  // dropout is for training only
        try ModelRunners.save(model, tokenizer: tokenizer, into: ctx.output, chatTemplate: chatTemplate)
        var log = TrainRunners.log(summary)
        log["target_tokens"] = summary.targets
        try JSONText.render(log).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    /// Runs the trainer on `objective`, the node's checkpoints in its scratch folder, its events
    /// as progress lines (every 10 steps, with targets per second named `rate`) and warnings.
    static func train<O: Objective>(_ objective: inout O, _ settings: TrainingSettings, _ ctx: NodeContext, rate: String?) throws -> TrainingSummary {
        let start = Date()
        do {
            return try Trainer(settings: settings, seed: ctx.seed, scratch: ctx.scratch).run(&objective) { event in
                switch event {
                case .resumed(let step):
                    ctx.progress("resumed from the checkpoint at step \(step)")
                case .checkpointDiscarded(let why):
                    ctx.warn("the checkpoint of an earlier attempt was discarded, \(why); training starts from step 0")
                case .stepped(let r) where r.step % 10 == 0 || r.step == r.total:
                    var line = String(format: "step %d/%d loss %.4f", r.step, r.total, r.loss)
                    if let rate {
                        line += String(format: " %.0f \(rate)/s", Double(r.targets) / Swift.max(1e-9, Date().timeIntervalSince(start)))
                    }
                    ctx.progress(line, done: r.step - r.firstStep, total: r.total - r.firstStep, since: start)
                case .stoppedEarly(let step, let loss, let best):
                    ctx.progress(String(format: "stopped early at step %d: eval loss %.4f, best %.4f", step, loss, best))
                case .stepped, .evaluated:
                    break
                }
                return .proceed
            }
        } catch let error as TrainingError {
            throw ExecutionError(error.description)  // the executor names the node
        }
    }

    /// The training log every trainer writes: steps run, the loss of each, trainable
    /// parameters, and the held-out evals with the best loss when there were any.
    static func log(_ summary: TrainingSummary) -> [String: Any] {
        var log: [String: Any] = ["steps": summary.losses.count, "loss": summary.losses.map(Double.init),
                                  "trainable_parameters": summary.trainableParameters]
        if !summary.evals.isEmpty {
            log["eval"] = summary.evals.map { e in (["step": e.step, "loss": e.loss] as [String: Any]).merging(e.metrics) { a, _ in a } }
            log["best_eval_loss"] = summary.bestLoss
        }
        return log
    }

    /// The three next-token methods' parameters.
    enum Method {
        case pretrain(PretrainParameters), finetune(FinetuneParameters), lora(LoRAParameters)

        init(_ ctx: NodeContext) throws {
            switch ctx.node.kind {
            case .trainPretrain: self = .pretrain(try ctx.parameters(PretrainParameters.self))
            case .trainFinetune: self = .finetune(try ctx.parameters(FinetuneParameters.self))
            case .trainLoRA: self = .lora(try ctx.parameters(LoRAParameters.self))
            default: throw ExecutionError.notThisRunner(ctx.node.kind)
            }
        }

        var train: TrainParameters? {
            switch self {
            case .pretrain(let p): p.train
            case .finetune(let p): p.train
            case .lora(let p): p.train
            }
        }
    }

    /// Every weight not matched by a `freeze` pattern (fine-tuning; none for pretraining).
    static func unfrozen(_ freeze: [String], of model: any CausalLM) throws -> [(String, Tensor)] {
        let all = model.namedParameters
        for (_, p) in all { p.requiringGrad(false) }
        let chosen = all.filter { name, _ in !freeze.contains { pattern in frozen(name, pattern) } }
        if chosen.isEmpty { throw ExecutionError.freezeLeavesNothing }
        return chosen
    }

    /// Fresh LoRA adapters (or the imported ones) on a frozen base: what LoRA trains.
    static func adapters(_ lora: LoRAParameters, on model: any CausalLM, _ ctx: NodeContext) throws -> [(String, Tensor)] {
        guard let adaptable = model as? Adaptable else { throw ExecutionError.noLoRA }
        for (_, p) in model.namedParameters { p.requiringGrad(false) }
        if let file = ctx.node.files.first {  // `lora.load`: start from an adapter in PEFT's layout
            do {
                try PEFTAdapter.load(from: ctx.resolve(file), into: adaptable)
            } catch let error as ModelFileError {
                throw ExecutionError(error.description)
            }
            for (_, p) in adaptable.adapters.parameters { p.requiringGrad() }
        } else if let shape = lora.adapter {
            return try freshAdapters(rank: shape.rank, alpha: shape.alpha, targets: shape.targets, rsLoRA: shape.rsLoRA,
                                     dropout: lora.dropout, on: model, ctx)
        } else {
            throw ParameterError(path: "lora.rank")  // neither a file nor a shape
        }
        adaptable.adapters.dropout = Float(lora.dropout)
        adaptable.adapters.dropoutSeed = ctx.seed
        return adaptable.adapters.parameters
    }

    /// New seeded adapters on a frozen base. A base that has adapters of its own (a LoRA model
    /// tuned further) has them merged into its weights first: the new ones train on the model
    /// the base is, and replace none of its adapters.
    static func freshAdapters(rank: Int, alpha: Double, targets: [String], rsLoRA: Bool, dropout: Double,
                              on model: any CausalLM, _ ctx: NodeContext) throws -> [(String, Tensor)] {
        guard let adaptable = model as? Adaptable else { throw ExecutionError.noLoRA }
        if !adaptable.adapters.isEmpty { Tensor.noGrad { adaptable.mergeAdapters() } }
        for (_, p) in model.namedParameters { p.requiringGrad(false) }
        let count = adaptable.addLoRA(targets: targets, rank: rank, alpha: Float(alpha), rsLoRA: rsLoRA, seed: ctx.seed)
        if count == 0 { throw ExecutionError.noLoRATargets(targets) }
        adaptable.adapters.dropout = Float(dropout)
        adaptable.adapters.dropoutSeed = ctx.seed
        return adaptable.adapters.parameters
    }

    /// Whether a parameter name is frozen by a pattern: the module itself, a module containing
    /// it (`embed` freezes `embed`, `layers.0` freezes `layers.0.attn.q`), or a `*` prefix.
    static func frozen(_ name: String, _ pattern: String) -> Bool {
        if pattern.hasSuffix("*") { return name.hasPrefix(String(pattern.dropLast())) }
        return name == pattern || name.hasPrefix(pattern + ".")
    }
}

extension TrainRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.trainPretrain: train, .trainFinetune: train, .trainLoRA: train]
}
