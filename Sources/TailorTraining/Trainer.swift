import Foundation
import TailorRuntime

/// What a run reports while it trains. The consumer answers each event with whether to go on.
public enum TrainingEvent: Sendable {
    /// Training continues from a checkpoint of an earlier attempt, after `step` steps.
    case resumed(step: Int)
    /// A checkpoint was there but unusable (why); training starts from step 0.
    case checkpointDiscarded(String)
    case stepped(StepReport)
    /// A held-out eval after `step` steps, and the best loss so far (this one included).
    case evaluated(step: Int, loss: Double, best: Double)
    /// Early stopping: `patience` evals without improvement.
    case stoppedEarly(step: Int, loss: Double, best: Double)
}

/// One optimizer step done.
public struct StepReport: Sendable {
    /// Steps done (1-based), of `total`; this attempt started after `firstStep` (a resume).
    public var step: Int, total: Int, firstStep: Int
    /// The step's loss: the sum of its micro-batches' scaled losses.
    public var loss: Float
    /// Targets counted so far in the run (a resumed run counts its earlier attempts').
    public var targets: Int
}

public enum TrainingDecision: Sendable { case proceed, stop }

/// How a run went: enough to write its training log.
public struct TrainingSummary: Sendable {
    public enum Ending: Sendable, Equatable {
        case finished
        /// Early stopping after `step` steps.
        case stoppedEarly(step: Int)
        /// The consumer of the events asked to stop after `step` steps.
        case stoppedByConsumer(step: Int)
    }

    /// One loss per step run.
    public var losses: [Float]
    public var targets: Int
    public var evals: [HeldOutResult]
    /// The best held-out loss, whose weights the parameters now hold; nil without evals.
    public var bestLoss: Double?
    public var trainableParameters: Int
    public var ending: Ending
}

/// The one training loop. It draws micro-batches from a seeded sampler, accumulates their
/// gradients, clips, steps the optimizer on the schedule, evaluates held-out data every N
/// steps with early stopping, keeps the best weights, and checkpoints the whole state (the
/// optimizer, the data order, the evals, the best weights, the patience spent) so that a run
/// killed at any point resumes to bit-identical weights. The method is the `Objective`.
public struct Trainer: Sendable {
    public var settings: TrainingSettings
    public var seed: UInt64
    /// Where checkpoints live (kept across attempts at the same node); nil: no checkpoints.
    public var scratch: String?

    public init(settings: TrainingSettings, seed: UInt64, scratch: String?) {
        self.settings = settings
        self.seed = seed
        self.scratch = scratch
    }

    /// Trains `objective`'s parameters. On return they hold the best held-out eval's weights
    /// (the last step's without evals) and no longer require gradients.
    public func run<O: Objective>(_ objective: inout O, events: (TrainingEvent) -> TrainingDecision = { _ in .proceed }) throws -> TrainingSummary {
        let s = settings
        let named = objective.parameters
        let parameters = named.map { $0.1.requiringGrad() }
        var optimizer = s.makeOptimizer(parameters)
        if let scales = objective.rateScales { optimizer.rateScales = scales }
        var sampler = Sampler(count: objective.examples, seed: seed)
        var losses: [Float] = [], targets = 0, firstStep = 0
        var evals: [HeldOutResult] = []
        var best: (loss: Double, weights: [Tensor])?
        var stale = 0
        var ending = TrainingSummary.Ending.finished
        if let scratch {
            switch Checkpoint.restore(parameters: named, optimizer: &optimizer, scratch: scratch) {
            case .resumed(let c):
                firstStep = c.step
                sampler.restore(epoch: c.epoch, position: c.position)
                (losses, targets, evals, stale, best) = (c.losses, c.targetTokens, c.evals, c.stale, c.best)
                objective.resumeState = c.objective
                _ = events(.resumed(step: firstStep))
            case .discarded(let why):
                _ = events(.checkpointDiscarded(why))
            case .none: break
            }
        }
        let evaluation = objective.hasHeldOut ? s.evaluation : nil
        for step in firstStep..<s.steps {
            optimizer.zeroGrad()
            var stepLoss: Float = 0
            for micro in 0..<s.accumulate {
                let (loss, counted) = try objective.loss(&sampler, rows: s.batch, draw: step * s.accumulate + micro)
                let scaled = loss / Float(s.accumulate)
                do {
                    try scaled.backward()
                } catch let error as NumericError {
                    throw TrainingError("step \(step + 1): \(error) (lower 'lr' or check the data)")
                }
                stepLoss += scaled.item
                targets += counted
            }
            if s.gradClip > 0 { clipGradientNorm(parameters, maxNorm: s.gradClip) }
            optimizer.step(lr: s.schedule.rate(at: step))
            losses.append(stepLoss)
            var decision = events(.stepped(StepReport(step: step + 1, total: s.steps, firstStep: firstStep, loss: stepLoss, targets: targets)))
            if let evaluation, (step + 1) % evaluation.every == 0 || step == s.steps - 1 {
                let (loss, metrics) = Tensor.noGrad { objective.heldOutEvaluation() }
                evals.append(HeldOutResult(step: step + 1, loss: loss, metrics: metrics))
                if loss < (best?.loss ?? .infinity) {
                    best = (loss, Tensor.noGrad { parameters.map { Tensor($0.scalars, shape: $0.shape) } })
                    stale = 0
                } else {
                    stale += 1
                }
                if events(.evaluated(step: step + 1, loss: loss, best: best!.loss)) == .stop { decision = .stop }
                if let patience = evaluation.patience, stale >= patience {
                    _ = events(.stoppedEarly(step: step + 1, loss: loss, best: best!.loss))
                    ending = .stoppedEarly(step: step + 1)
                    break
                }
            }
            // After this step's eval, so a resumed run holds the evals and best weights it had.
            if let scratch, s.checkpointEvery > 0, (step + 1) % s.checkpointEvery == 0, step + 1 < s.steps {
                try Checkpoint.save(Checkpoint(step: step + 1, epoch: sampler.epoch, position: sampler.position, losses: losses,
                                               targetTokens: targets, evals: evals, stale: stale, best: best, objective: objective.resumeState),
                                    parameters: named, optimizer: optimizer, scratch: scratch)
            }
            if decision == .stop, step + 1 < s.steps {
                ending = .stoppedByConsumer(step: step + 1)
                break
            }
        }
        Tensor.noGrad {
            if let best { for (p, w) in zip(parameters, best.weights) { p.assign(w) } }  // the best eval's weights
            for p in parameters { p.requiringGrad(false) }
        }
        return TrainingSummary(losses: losses, targets: targets, evals: evals, bestLoss: best?.loss,
                               trainableParameters: parameters.reduce(0) { $0 + $1.count }, ending: ending)
    }
}
