import TailorRuntime

/// Another objective with a pull towards fixed weights added to its loss: for each trained
/// parameter θ with anchor θ* and importance F (1 when none is given),
/// penalty = (strength / 2) · Σ F · (θ − θ*)².
/// With F = 1 this is L2-SP (Li et al. 2018, "Explicit inductive bias for transfer learning");
/// with F the diagonal Fisher information of the earlier tasks, EWC (Kirkpatrick et al. 2017).
/// The trainer averages micro-batch losses, so adding the penalty to each counts it once a step.
/// Held-out losses are the wrapped objective's: they measure the task, not the pull.
public struct AnchoredObjective<Base: Objective>: Objective {
    public var base: Base
    /// The anchors θ* and importances F, in `parameters` order, never trained.
    let anchors: [Tensor], importance: [Tensor]?
    let strength: Float

    /// Anchors every parameter of `base` at its value now.
    public init(_ base: Base, strength: Float, importance: [Tensor]? = nil) {
        precondition(importance == nil || importance!.count == base.parameters.count, "one importance per parameter")
        self.base = base
        self.anchors = base.parameters.map { Tensor($0.1.scalars, shape: $0.1.shape) }
        self.importance = importance
        self.strength = strength
    }

    public var parameters: [(String, Tensor)] { base.parameters }
    public var examples: Int { base.examples }
    public var rowsPerEpoch: Int { base.rowsPerEpoch }
    public var hasHeldOut: Bool { base.hasHeldOut }
    public var rateScales: [Float]? { base.rateScales }
    public var resumeState: [String: [Double]] {
        get { base.resumeState }
        set { base.resumeState = newValue }
    }

    /// (strength / 2) · Σ F (θ − θ*)², a scalar with gradients strength · F (θ − θ*).
    public func penalty() -> Tensor {
        var total: Tensor?
        for (i, (_, p)) in base.parameters.enumerated() {
            let d = (p - anchors[i]).square()
            let term = (importance.map { d * $0[i] } ?? d).sum()
            total = total.map { $0 + term } ?? term
        }
        return (total ?? Tensor(scalar: 0)) * (strength / 2)
    }

    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        let (loss, targets) = try base.loss(&sampler, rows: rows, draw: draw)
        return (loss + penalty(), targets)
    }

    public func heldOutLoss() -> Double { base.heldOutLoss() }
    public func heldOutEvaluation() -> (loss: Double, metrics: [String: Double]) { base.heldOutEvaluation() }
}
