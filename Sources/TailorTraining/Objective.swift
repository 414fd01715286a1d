import TailorRuntime

/// What a training run optimises: the one part that differs between methods. The `Trainer`
/// owns everything else (the data order, accumulation, the schedule, clipping, held-out
/// evals, early stopping, best weights, checkpoints), so a new method is a new objective.
///
/// An objective holds whatever models it needs: frozen ones (a DPO reference, a reward model)
/// are fields it reads and never lists in `parameters`; extra trainable parts (a value head)
/// are listed there beside the model's own, by name, and so are optimised, clipped,
/// checkpointed and restored with them; extra loss terms (a pull towards earlier weights)
/// are added to the micro-batch loss it returns.
public protocol Objective {
    /// Everything the run trains, by name. The names key the checkpoint, so they must be stable
    /// and unique; the order is the optimizer's and the gradient norm's.
    var parameters: [(String, Tensor)] { get }

    /// How many training examples the sampler orders.
    var examples: Int { get }

    /// Rows one pass over the training data gives (what an epoch counts): the examples, or,
    /// when examples are packed, the full rows their tokens fill.
    var rowsPerEpoch: Int { get }

    /// Whether `heldOutLoss` measures something (the run has held-out data).
    var hasHeldOut: Bool { get }

    /// The loss of one micro-batch drawn from `sampler`: a scalar tensor to differentiate, and
    /// how many targets it counted (tokens for language models, examples for classifiers).
    /// `draw` numbers the micro-batches of the run from 0, for per-draw randomness (dropout).
    mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int)

    /// The mean loss on the held-out data, computed without gradients and without training-only
    /// randomness. Lower is better: it picks the best weights and drives early stopping.
    func heldOutLoss() -> Double

    /// The held-out loss with whatever else the method reports over the whole held-out set
    /// (DPO's implicit rewards and accuracy), in one pass; by default the loss alone.
    func heldOutEvaluation() -> (loss: Double, metrics: [String: Double])

    /// What a resumed run needs beyond the parameters, the optimizer and the data order (PPO's
    /// adaptive KL coefficient and its log so far), saved with each checkpoint; by default nothing.
    var resumeState: [String: [Double]] { get set }

    /// Each parameter's multiplier of the scheduled learning rate, in `parameters` order (PPO's
    /// fresh value head learns faster than the policy); nil, the default: 1 for every one.
    var rateScales: [Float]? { get }
}

extension Objective {
    public var rowsPerEpoch: Int { examples }
    public func heldOutEvaluation() -> (loss: Double, metrics: [String: Double]) { (heldOutLoss(), [:]) }
    public var resumeState: [String: [Double]] {
        get { [:] }
        set {}
    }
    public var rateScales: [Float]? { nil }
}

/// One held-out evaluation during training: after `step` steps, its loss and the method's
/// other measures.
public struct HeldOutResult: Sendable, Equatable {
    public var step: Int, loss: Double
    public var metrics: [String: Double]
    public init(step: Int, loss: Double, metrics: [String: Double] = [:]) { (self.step, self.loss, self.metrics) = (step, loss, metrics) }
}
