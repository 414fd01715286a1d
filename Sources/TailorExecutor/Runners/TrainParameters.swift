import TailorRuntime
import TailorSpec
import TailorTraining

/// A training node's `train` parameters, typed. The plan holds every field with the schema's
/// default filled in, so nothing here has a default of its own: a missing field is a bug in
/// the planner and is reported as one, never replaced by a second, different default.
struct TrainParameters {
    var settings: TrainingSettings
    /// Tokens per row (`train.sequence`); nil: the model's context.
    var sequence: Int?
    var packing: Bool
    var trainOnInputs: Bool

    init(_ v: Params?) throws {
        guard let v else { throw ExecutionError.noTrainParameters }
        func field<T>(_ key: String, _ read: (Params) -> T?) throws -> T { try v.required(key, read) }
        let steps = try field("steps", \.int)
        let shape = try field("schedule") { $0.string.flatMap(LearningRateSchedule.Shape.init(rawValue:)) }
        let schedule = LearningRateSchedule(peak: Float(try field("lr", \.number)), warmup: try field("warmup", \.int), total: steps, shape: shape)
        var evaluation: TrainingSettings.Evaluation?
        if let eval = v["eval"] {
            evaluation = .init(every: try eval.required("every", \.int), patience: eval["patience"]?.int)
        }
        settings = TrainingSettings(
            steps: steps, batch: try field("batch", \.int), accumulate: try field("accumulate", \.int), schedule: schedule,
            optimizer: try field("optimizer") { $0.string.flatMap(TrainingSettings.OptimizerChoice.init(rawValue:)) },
            weightDecay: Float(try field("weight_decay", \.number)), gradClip: Float(try field("grad_clip", \.number)),
            checkpointEvery: try field("checkpoint_every", \.int), evaluation: evaluation)
        sequence = v["sequence"]?.int
        packing = try field("packing", \.bool)
        trainOnInputs = try field("train_on_inputs", \.bool)
    }

    /// Tokens per row for a model of `context`: `sequence`, never past the context (the
    /// checker refuses more where it knows the context).
    func width(context: Int) -> Int { Swift.min(sequence ?? context, context) }
}
