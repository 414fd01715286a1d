import Foundation
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining

/// train.ppo: the policy optimised against a reward model with a KL penalty to its base.
enum PPORunners {
    /// The prompts are the training records' contexts (the tokens before the first answer
    /// token). With `ppo.lora` the reference is the policy with its adapters off (one copy of
    /// the weights); with every weight training it is the base, read as evaluations share it.
    /// A new batch of rollouts comes every `ppo.epochs` optimizer steps; `checkpoint_every` is
    /// rounded up to a multiple of them, so a resumed run starts at a fresh batch. The value
    /// head is saved as `value_head.safetensors`; `training.json` holds one entry per batch of
    /// rollouts (mean score, KL by the k3 estimator and by k1, entropy, KL coefficient, clip
    /// fractions, losses, response length).
    static func train(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(PPOParameters.self)
        let base = try ctx.input(.base).artifact
        let (policy, tokenizer) = try ModelRunners.load(base)
        let rewardInput = try ctx.input(.reward)
        let (reward, _) = try RewardRunners.load(rewardInput.artifact, node: rewardInput.input.node)
        let tokens = try TokenArrays.read(try ctx.input(.data).artifact.path("tokens.bin"))
        let prompts = (0..<tokens.count).map { i -> [Int32] in
            let (ids, mask) = tokens.sequence(i)
            return Array(ids.prefix(mask.firstIndex(of: 1).map { $0 - mask.startIndex } ?? ids.count))
        }
        policy.makeTrainable()
        let parameters: [(String, Tensor)]
        var reference: (any CausalLM)?
        if let lora = p.lora {
            parameters = try TrainRunners.freshAdapters(rank: lora.rank, alpha: lora.alpha, targets: lora.targets, rsLoRA: lora.rsLoRA,
                                                        dropout: lora.dropout, on: policy, ctx)
        } else {
            parameters = try TrainRunners.unfrozen([], of: policy)
            reference = try ModelRunners.loadForEvaluation(base).0
        }
        var settings = try TrainingSettings(p.train, examples: prompts.count)
        settings.checkpointEvery = (settings.checkpointEvery + p.epochs - 1) / p.epochs * p.epochs
        let ppo = PPOObjective.Settings(
            klCoefficient: p.kl, targetKL: p.targetKL, horizon: Double(p.horizon), clip: Float(p.clip), valueClip: Float(p.valueClip),
            valueCoefficient: Float(p.valueCoef), valueRateScale: Float(p.valueLR / p.train.lr), gamma: Float(p.gamma), lambda: Float(p.lambda), epochs: p.epochs,
            accumulate: settings.accumulate, maxTokens: p.maxTokens, temperature: Float(p.temperature))
        var objective: PPOObjective
        do {
            objective = try PPOObjective(policy: policy, policyParameters: parameters, reference: reference, reward: reward, tokenizer: tokenizer,
                                         prompts: prompts, settings: ppo, seed: ctx.seed)
        } catch let error as TrainingError {
            throw ExecutionError(error.description)
        }
        let summary = try TrainRunners.train(&objective, settings, ctx, rate: "response tokens")
        (policy as? Adaptable)?.adapters.dropout = 0
        try ModelRunners.save(policy, tokenizer: tokenizer, into: ctx.output, chatTemplate: ArtifactTokenizer.chatTemplateSource(base))
        let head = objective.valueHead.projection
        try Safetensors.write(["weight": head.weight, "bias": head.bias!], to: ctx.out("value_head.safetensors"))
        var log = TrainRunners.log(summary)
        log["rollouts"] = objective.history
        log["response_tokens"] = summary.targets
        try JSONText.render(log).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }
}

extension PPORunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.trainPPO: train]
}
