import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining

/// train.reward and eval.reward: reward models from preference pairs, and how they score
/// held-out pairs.
enum RewardRunners {
    /// A scalar head on the base decoder, trained by the Bradley–Terry loss with every decoder
    /// weight, or with LoRA adapters on the frozen decoder (`reward.lora`). The artifact is the
    /// decoder (a Hugging Face folder; with LoRA the base's weights unchanged and the adapters
    /// beside them) with `head.safetensors` and `head.json` (`kind: reward`); with `train.eval`,
    /// training.json holds the held-out metrics over the whole set.
    static func train(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(RewardParameters.self)
        guard let pooling = Pooling(rawValue: p.pooling) else { throw ParameterError(path: "reward.pooling") }
        let base = try ctx.input(.base).artifact
        let (decoder, tokenizer) = try ModelRunners.load(base)
        let training = try pairs(try ctx.input(.data).artifact, "the training data")
        let heldOut = try ctx.inputs(.heldOut).first.map { try pairs($0.artifact, "the held-out data of `train.eval`") }
        decoder.makeTrainable()
        let backbone = if let lora = p.lora {
            try TrainRunners.freshAdapters(rank: lora.rank, alpha: lora.alpha, targets: lora.targets, rsLoRA: lora.rsLoRA,
                                           dropout: lora.dropout, on: decoder, ctx)
        } else {
            decoder.namedParameters
        }
        let model = SequenceHeadModel(backbone: decoder, outputs: 1, pooling: pooling, padID: tokenizer.eos ?? 0, seed: ctx.seed)
        var objective = try RewardObjective(model: model, backbone: backbone, training: training, heldOut: heldOut,
                                            margin: Float(p.margin))
        let summary = try TrainRunners.train(&objective, try TrainingSettings(p.train, examples: objective.rowsPerEpoch), ctx, rate: "pairs")
        (decoder as? Adaptable)?.adapters.dropout = 0  // dropout is for training only
        try ModelRunners.save(decoder, tokenizer: tokenizer, into: ctx.output, chatTemplate: ArtifactTokenizer.chatTemplateSource(base))
        try saveHead(model, into: ctx)
        var log = TrainRunners.log(summary)
        if let heldOut {
            let (chosen, rejected) = RewardObjective.scores(model, heldOut)
            log["held_out"] = RewardMetrics(chosen: chosen, rejected: rejected).json
        }
        try JSONText.render(log).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    static func saveHead(_ model: SequenceHeadModel, into ctx: NodeContext) throws {
        let projection = model.head.projection
        try Safetensors.write(["head.weight": projection.weight, "head.bias": projection.bias!], to: ctx.out("head.safetensors"))
        try JSONText.render(["kind": "reward", "pooling": model.pooling.rawValue] as [String: Any])
            .write(toFile: ctx.out("head.json"), atomically: false, encoding: .utf8)
    }

    /// A tokenized preference dataset: each pair's chosen and rejected sequences.
    static func pairs(_ artifact: Artifact, _ what: String) throws -> RewardObjective.Pairs {
        guard artifact.files["rejected.bin"] != nil else { throw ExecutionError.noPairs(what) }
        let chosen = try TokenArrays.read(artifact.path("tokens.bin")), rejected = try TokenArrays.read(artifact.path("rejected.bin"))
        guard chosen.count == rejected.count else { throw ExecutionError.noPairs(what) }
        return .init(chosen: (0..<chosen.count).map { Array(chosen.sequence($0).ids) },
                     rejected: (0..<rejected.count).map { Array(rejected.sequence($0).ids) })
    }

    /// A reward model artifact as a model to score with: its decoder (the base weights shared
    /// with other evaluations) and its head.
    static func load(_ artifact: Artifact, node: String) throws -> (SequenceHeadModel, BPETokenizer) {
        guard artifact.files["head.json"] != nil else { throw ExecutionError.notARewardModel(node) }
        let (decoder, tokenizer) = try ModelRunners.loadForEvaluation(artifact)
        do {
            return (try SequenceHeadModel.reward(folder: artifact.folder, backbone: decoder, padID: tokenizer.eos ?? 0), tokenizer)
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// `reward_accuracy` on held-out pairs, with the mean margin and both score distributions:
    /// the pairs read as the run tokenizes them (`TokenizerRunners.pairSide`).
    static func evaluate(_ ctx: NodeContext) throws {
        let (modelInput, dataInput) = (try ctx.input(.model), try ctx.input(.evalData))
        let (model, tokenizer) = try load(modelInput.artifact, node: modelInput.input.node)
        guard let eos = tokenizer.eos else { throw ExecutionError.noEndOfText }
        let data = try ctx.evaluated(dataInput, try ctx.parameters(EvalRewardParameters.self).scope)
        var pairs = RewardObjective.Pairs(chosen: [], rejected: [])
        let source = dataInput.input.display
        var template = ArtifactTokenizer.LazyChatTemplate(modelInput.artifact)
        for (i, record) in data.records.enumerated() {
            let c = try TokenizerRunners.pairSide(record, i, rejected: false, tokenizer, eos: eos, template: &template, source: source).ids
            let r = try TokenizerRunners.pairSide(record, i, rejected: true, tokenizer, eos: eos, template: &template, source: source).ids
            let longest = max(c.count, r.count)
            guard longest <= model.backbone.context else {
                throw ExecutionError.pairTooLong(source, record: i + 1, tokens: longest, context: model.backbone.context)
            }
            pairs.chosen.append(c)
            pairs.rejected.append(r)
        }
        guard pairs.count > 0 else { throw ExecutionError.noPairs(source) }
        let (chosen, rejected) = RewardObjective.scores(model, pairs)
        let metrics = RewardMetrics(chosen: chosen, rejected: rejected)
        var result = metrics.json
        result["reward_accuracy"] = metrics.accuracy
        result["model"] = modelInput.input.node
        result["data"] = source
        result["examples"] = metrics.pairs
        try JSONText.render(result).write(toFile: ctx.out("metrics.json"), atomically: false, encoding: .utf8)
    }
}

extension RewardRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.trainReward: train, .evalReward: evaluate]
}
