import TailorPlan
import TailorEngine
import TailorRuntime
import TailorTraining

extension TrainingSettings {
    /// The trainer's settings from a node's `train` parameters (strings the checker allows
    /// only as the schema's choices), for an objective of `examples` examples (what `epochs`
    /// counts).
    init(_ p: TrainParameters, examples: Int) throws {
        let steps = p.steps(examples: examples)!
        guard let shape = LearningRateSchedule.Shape(rawValue: p.schedule) else { throw ParameterError(path: "train.schedule") }
        guard let optimizer = OptimizerChoice(rawValue: p.optimizer) else { throw ParameterError(path: "train.optimizer") }
        self.init(
            steps: steps, batch: p.batch, accumulate: p.accumulate,
            schedule: LearningRateSchedule(peak: Float(p.lr), warmup: p.warmup, total: steps, shape: shape),
            optimizer: optimizer, weightDecay: Float(p.weightDecay), gradClip: Float(p.gradClip),
            checkpointEvery: p.checkpointEvery, evaluation: p.eval.map { .init(every: $0.every, patience: $0.patience) })
    }
}
