import TailorRuntime

/// How a run trains, whatever it trains: the loop's settings. Every field is given: the
/// defaults live once, in the spec schema, and reach here through the plan's parameters.
public struct TrainingSettings: Sendable {
    public enum OptimizerChoice: String, Sendable { case adamw, sgd }

    /// Held-out evaluation during training: every `every` steps (and after the last), with
    /// early stopping after `patience` evals without improvement (nil: never stop early).
    public struct Evaluation: Sendable, Equatable {
        public var every: Int
        public var patience: Int?
        public init(every: Int, patience: Int?) {
            self.every = every
            self.patience = patience
        }
    }

    public var steps: Int
    /// Examples (rows) per micro-batch.
    public var batch: Int
    /// Micro-batches per optimizer step; their gradients add up, each loss scaled by 1/accumulate.
    public var accumulate: Int
    public var schedule: LearningRateSchedule
    public var optimizer: OptimizerChoice
    public var weightDecay: Float
    /// Global gradient-norm limit; 0: no clipping.
    public var gradClip: Float
    /// Steps between resumable checkpoints.
    public var checkpointEvery: Int
    /// nil: no held-out evaluation (or no held-out data).
    public var evaluation: Evaluation?

    public init(steps: Int, batch: Int, accumulate: Int, schedule: LearningRateSchedule, optimizer: OptimizerChoice,
                weightDecay: Float, gradClip: Float, checkpointEvery: Int, evaluation: Evaluation?) {
        self.steps = steps
        self.batch = batch
        self.accumulate = accumulate
        self.schedule = schedule
        self.optimizer = optimizer
        self.weightDecay = weightDecay
        self.gradClip = gradClip
        self.checkpointEvery = checkpointEvery
        self.evaluation = evaluation
    }

    /// The optimizer these settings name, over `parameters`. AdamW's betas are (0.9, 0.95), as
    /// in most language-model recipes; SGD has momentum 0.9.
    func makeOptimizer(_ parameters: [Tensor]) -> any Optimizer {
        switch optimizer {
        case .adamw: AdamW(parameters, beta1: 0.9, beta2: 0.95, weightDecay: weightDecay)
        case .sgd: SGD(parameters, momentum: 0.9, weightDecay: weightDecay)
        }
    }
}
