import Foundation
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining

/// train.continual (one stage of a continual model), ewc.fisher (a stage's Fisher
/// information, for EWC) and eval.continual (the forgetting matrix).
enum ContinualRunners {
    /// Fine-tunes the stage before on this stage's task: every weight, or the adapter it goes
    /// on training (`lora`), with any of replay of the earlier tasks' examples, a pull towards
    /// the weights the stage starts from (L2-SP, or EWC weighted by the earlier stages' Fisher
    /// information summed) and LwF's distillation (on the replayed examples' inputs too). An
    /// adapter per task trains fresh on the base instead, and with `merge` is then folded into
    /// the stage before's weights.
    static func stage(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(ContinualParameters.self)
        let previous = ctx.inputs(.stage).first?.artifact
        // What the stage trains: the stage before, but for an adapter per task, the base.
        let start = try p.adapters == nil ? previous ?? ctx.input(.base).artifact : ctx.input(.base).artifact
        let (model, tokenizer) = try ModelRunners.load(start)
        var tokens = try TokenArrays.read(try ctx.input(.data).artifact.path("tokens.bin"))
        var replayed = 0
        if let count = p.replayExamples ?? p.replay.map({ Replay.count(task: tokens.count, fraction: $0) }) {
            let earlier = try ctx.inputs(.task).map { try TokenArrays.read($0.artifact.path("tokens.bin")) }
            (tokens, replayed) = Replay.mix(tokens, earlier: earlier, count: count, seed: ctx.seed)
        }
        model.makeTrainable()
        let parameters: [(String, Tensor)]
        if let shape = p.adapters?.shape ?? (previous == nil ? p.lora : nil) {
            parameters = try TrainRunners.freshAdapters(rank: shape.rank, alpha: shape.alpha, targets: shape.targets, rsLoRA: shape.rsLoRA,
                                                        dropout: shape.dropout, on: model, ctx)
        } else if let lora = p.lora {
            parameters = try stageAdapter(of: model)
            (model as? Adaptable)?.adapters.dropout = Float(lora.dropout)
            (model as? Adaptable)?.adapters.dropoutSeed = ctx.seed
        } else {
            parameters = try TrainRunners.unfrozen([], of: model)
        }
        let task = try LanguageModelObjective(model: model, parameters: parameters, tokens: tokens, heldOut: nil,
                                              sequence: p.train.sequence, packing: p.train.packing, trainOnInputs: p.train.trainOnInputs)
        func train<O: Objective>(_ objective: O) throws -> TrainingSummary {
            var objective = objective
            return try TrainRunners.train(&objective, try TrainingSettings(p.train, examples: objective.rowsPerEpoch), ctx, rate: "tokens")
        }
        // The pull towards the starting weights, if any: L2-SP's, or EWC's weighted by the Fisher information.
        let pull: (strength: Float, importance: [Tensor]?)?
        if let alpha = p.l2 { pull = (Float(alpha), nil) }
        else if let lambda = p.ewc { pull = (Float(lambda), try importance(parameters, gamma: p.gamma, ctx)) }
        else { pull = nil }
        func train<O: Objective>(_ objective: O, pulled pull: (strength: Float, importance: [Tensor]?)?) throws -> TrainingSummary {
            guard let pull else { return try train(objective) }
            return try train(AnchoredObjective(objective, strength: pull.strength, importance: pull.importance))
        }
        let summary: TrainingSummary
        if let lwf = p.lwf {
            let (teacher, _) = try ModelRunners.load(start)  // the stage's starting model, frozen
            summary = try train(try DistilledObjective(model: model, teacher: teacher, parameters: parameters, tokens: tokens, sequence: p.train.sequence,
                                                       trainOnInputs: p.train.trainOnInputs, weight: Float(lwf.weight), temperature: Float(lwf.temperature)),
                                pulled: pull)
        } else {
            summary = try train(task, pulled: pull)
        }
        let trained = p.adapters?.merge == true ? try merged(model, into: previous ?? start) : model
        try ModelRunners.save(trained, tokenizer: tokenizer, into: ctx.output, chatTemplate: ArtifactTokenizer.chatTemplateSource(start))
        var log = TrainRunners.log(summary)
        log["target_tokens"] = summary.targets
        log["examples"] = tokens.count
        log["replayed_examples"] = replayed
        try JSONText.render(log).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    /// The adapter a stage of a `lora` continual model goes on training (and whose Fisher
    /// information EWC weighs): the one the stage before left, its base frozen.
    static func stageAdapter(of model: any CausalLM) throws -> [(String, Tensor)] {
        guard let adaptable = model as? Adaptable, !adaptable.adapters.isEmpty else { throw ExecutionError.noStageAdapter }
        for (_, p) in model.namedParameters { p.requiringGrad(false) }
        for (_, p) in adaptable.adapters.parameters { p.requiringGrad() }
        return adaptable.adapters.parameters
    }

    /// The stage before (the base, for the first stage) with the adapter `model` trained
    /// folded into its weights: each task's update added to the earlier ones'.
    static func merged(_ model: any CausalLM, into artifact: Artifact) throws -> any CausalLM {
        let (target, _) = try ModelRunners.load(artifact)
        guard let trained = model as? Adaptable, let into = target as? Adaptable else { throw ExecutionError.noLoRA }
        Tensor.noGrad {
            if !into.adapters.isEmpty { into.mergeAdapters() }  // a LoRA base's own adapters, as training merged them
            into.adapters = AdapterSet(trained.adapters.adapters)
            into.mergeAdapters()
        }
        return target
    }

    /// The earlier stages' Fisher diagonals accumulated by online EWC's γ (`Fisher.online`), by
    /// parameter name, in `parameters` order.
    static func importance(_ parameters: [(String, Tensor)], gamma: Double, _ ctx: NodeContext) throws -> [Tensor] {
        let fishers = try ctx.inputs(.fisher).map { try Safetensors.read(path: $0.artifact.path("fisher.safetensors")).tensors }
        guard !fishers.isEmpty else { throw ExecutionError.noFisher }
        return try parameters.map { name, p in
            let stages = try fishers.map { f in  // inputs in training order
                guard let t = f[name], t.shape == p.shape else { throw ExecutionError.fisherMismatch(name) }
                return t.scalars
            }
            return Tensor(Fisher.online(stages, gamma: Float(gamma)), shape: p.shape)
        }
    }

    /// The diagonal Fisher information of a stage's weights on its own task (`Fisher`), as
    /// one tensor per weight; what EWC weighs each later stage's pull with.
    static func fisher(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(FisherParameters.self)
        let (model, _) = try ModelRunners.load(try ctx.input(.model).artifact)
        let tokens = try TokenArrays.read(try ctx.input(.data).artifact.path("tokens.bin"))
        model.makeTrainable()
        let parameters = try p.adapters ? stageAdapter(of: model) : TrainRunners.unfrozen([], of: model)
        let (fisher, used) = try Fisher.diagonal(model, parameters: parameters, tokens: tokens, limit: p.examples)
        try Safetensors.write(Dictionary(uniqueKeysWithValues: zip(parameters.map(\.0), fisher)), to: ctx.out("fisher.safetensors"))
        let total = fisher.reduce(0.0) { $0 + $1.scalars.reduce(0.0) { $0 + Double($1) } }
        try JSONText.render(["examples": used, "trace": total] as [String: Any]).write(toFile: ctx.out("fisher.json"), atomically: false, encoding: .utf8)
    }

    /// R[i][j] from the cells' exact-match scores (row-major, as planned), with the summaries
    /// over the task columns: `matrix.json`, `metrics.json` (the report's row) and `matrix.md`.
    static func matrix(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(EvalContinualParameters.self)
        let rows = try ctx.inputs(.result).map { entry -> [String: Any] in
            guard let data = FileManager.default.contents(atPath: entry.artifact.path("metrics.json")),
                  let row = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], row["exact_match"] is Double
            else { throw ExecutionError.noMetrics }
            return row
        }
        let cells = rows.map { $0["exact_match"] as! Double }
        let width = p.columns.count
        guard cells.count == (p.tasks + 1) * width else { throw ExecutionError.matrixShape(cells.count, rows: p.tasks + 1, columns: width) }
        let scores = (0...p.tasks).map { Array(cells[($0 * width)..<(($0 + 1) * width)]) }
        let m = AccuracyMatrix(scores, tasks: p.tasks)
        let model = rows.last?["model"] ?? ctx.node.id  // the last stage is the model
        var summary: [String: Any] = ["model": model, "average_accuracy": m.averageAccuracy]
        if let bwt = m.backwardTransfer { summary["backward_transfer"] = bwt }
        if let fwt = m.forwardTransfer { summary["forward_transfer"] = fwt }
        if let f = m.averageForgetting { summary["forgetting"] = f }
        let matrix: [String: Any] = ["rows": ["base"] + (1...p.tasks).map { "after task \($0)" }, "columns": p.columns,
                                     "scores": scores, "forgetting": m.forgetting, "last_forgetting": m.lastForgetting]
        try JSONSerialization.data(withJSONObject: summary.merging(["matrix": matrix]) { a, _ in a }, options: [.sortedKeys, .prettyPrinted])
            .write(to: URL(fileURLWithPath: ctx.out("metrics.json")))
        var md = "| stage | " + p.columns.joined(separator: " | ") + " |\n|---|" + p.columns.map { _ in "---|" }.joined() + "\n"
        for (i, row) in scores.enumerated() {
            md += "| \(i == 0 ? "base" : "after task \(i)") | " + row.map { String(format: "%.4f", $0) }.joined(separator: " | ") + " |\n"
        }
        try md.write(toFile: ctx.out("matrix.md"), atomically: false, encoding: .utf8)
    }
}

extension ContinualRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.trainContinual: stage, .ewcFisher: fisher, .evalContinual: matrix]
}
