import Foundation
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining

/// dpo.reference and train.dpo: a frozen reference's log-probabilities of every pair, computed
/// once, then the policy trained against them.
enum DPORunners {
    /// The reference's log-probability of each pair's chosen and rejected answer (prompt and
    /// answer as the run tokenizes them; the sum over the answer's tokens and end of text), for
    /// the training pairs and the held-out ones: `reference.safetensors` with tensors
    /// `data.chosen`, `data.rejected` and, with held-out data, `held_out.chosen`,
    /// `held_out.rejected`, all (pairs) float32; `reference.json` says what they are.
    static func reference(_ ctx: NodeContext) throws {
        _ = try ctx.parameters(DPOReferenceParameters.self)
        let modelInput = try ctx.input(.model)
        let (model, _) = try ModelRunners.loadForEvaluation(modelInput.artifact)
        var tensors: [String: Tensor] = [:], summary: [String: Any] = ["model": modelInput.input.node]
        for (role, name, what) in [(InputRole.data, "data", "the training data"), (.heldOut, "held_out", "the held-out data of `train.eval`")] {
            guard let input = ctx.inputs(role).first else { continue }
            let pairs = try preferenceTokens(input.artifact, what, context: model.context)
            let chosen = SequenceLogProbs.all(model, pairs.chosen), rejected = SequenceLogProbs.all(model, pairs.rejected)
            tensors[name + ".chosen"] = Tensor(chosen, shape: [chosen.count])
            tensors[name + ".rejected"] = Tensor(rejected, shape: [rejected.count])
            summary[name] = ["pairs": pairs.count, "mean_logp_chosen": mean(chosen), "mean_logp_rejected": mean(rejected)] as [String: Any]
        }
        guard !tensors.isEmpty else { throw ExecutionError.noTrainingData }
        try Safetensors.write(tensors, to: ctx.out("reference.safetensors"))
        try JSONText.render(summary).write(toFile: ctx.out("reference.json"), atomically: false, encoding: .utf8)
    }

    static func mean(_ v: [Float]) -> Double { v.isEmpty ? 0 : v.reduce(0.0) { $0 + Double($1) } / Double(v.count) }

    /// The policy, every weight or LoRA adapters on it, trained on the pairs by the DPO or IPO
    /// loss against the reference's log-probabilities. With `train.eval`, each eval logs TRL's
    /// metrics over the whole held-out set, and training.json ends with the best weights'.
    static func train(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(DPOParameters.self)
        guard let kind = PreferenceLoss.Kind(rawValue: p.loss) else { throw ParameterError(path: "dpo.loss") }
        let base = try ctx.input(.base).artifact
        let (model, tokenizer) = try ModelRunners.load(base)
        let reference = try Safetensors.read(path: try ctx.input(.reference).artifact.path("reference.safetensors")).tensors
        func scores(_ name: String) throws -> DPOObjective.Reference {
            guard let c = reference[name + ".chosen"], let r = reference[name + ".rejected"] else { throw ExecutionError.noReference(name) }
            return .init(chosen: c.scalars, rejected: r.scalars)
        }
        let training = try preferenceTokens(try ctx.input(.data).artifact, "the training data", context: model.context)
        let heldOut = try ctx.inputs(.heldOut).first.map {
            (try preferenceTokens($0.artifact, "the held-out data of `train.eval`", context: model.context), try scores("held_out"))
        }
        model.makeTrainable()
        let parameters = if let lora = p.lora {
            try TrainRunners.freshAdapters(rank: lora.rank, alpha: lora.alpha, targets: lora.targets, rsLoRA: lora.rsLoRA,
                                           dropout: lora.dropout, on: model, ctx)
        } else {
            try TrainRunners.unfrozen([], of: model)
        }
        let settings = DPOObjective.Settings(beta: Float(p.beta), kind: kind, labelSmoothing: Float(p.labelSmoothing))
        var objective: DPOObjective
        do {
            objective = try DPOObjective(model: model, parameters: parameters, training: training, reference: try scores("data"),
                                         heldOut: heldOut, settings: settings)
        } catch let error as TrainingError {
            throw ExecutionError(error.description)
        }
        let summary = try TrainRunners.train(&objective, try TrainingSettings(p.train, examples: objective.rowsPerEpoch), ctx, rate: "pairs")
        (model as? Adaptable)?.adapters.dropout = 0  // dropout is for training only
        try ModelRunners.save(model, tokenizer: tokenizer, into: ctx.output, chatTemplate: ArtifactTokenizer.chatTemplateSource(base))
        var log = TrainRunners.log(summary)
        if let heldOut {
            let (loss, metrics) = DPOObjective.evaluate(model, heldOut.0, heldOut.1, settings)
            log["held_out"] = (["loss": loss, "pairs": metrics.pairs] as [String: Any]).merging(metrics.values) { a, _ in a }
        }
        try JSONText.render(log).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    /// A tokenized preference dataset with both sides' loss masks, checked against the context.
    static func preferenceTokens(_ artifact: Artifact, _ what: String, context: Int) throws -> PreferenceTokens {
        guard artifact.files["rejected.bin"] != nil else { throw ExecutionError.noPairs(what) }
        do {
            return try PreferenceTokens(chosen: try TokenArrays.read(artifact.path("tokens.bin")),
                                        rejected: try TokenArrays.read(artifact.path("rejected.bin")), context: context, what: what)
        } catch let error as TrainingError {
            throw ExecutionError(error.description)
        }
    }
}

extension DPORunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.dpoReference: reference, .trainDPO: train]
}
