import TailorModels
import TailorRuntime

/// Direct preference optimisation: the policy learns from preference pairs against a frozen
/// reference whose log-probabilities were computed once, before training (their own cached
/// node), so the reference's weights are never held while the policy trains.
public struct DPOObjective: Objective {
    /// The reference's log-probability of each pair's chosen and rejected answer (sums over
    /// the answer's tokens).
    public struct Reference: Sendable {
        public var chosen: [Float], rejected: [Float]
        public init(chosen: [Float], rejected: [Float]) { (self.chosen, self.rejected) = (chosen, rejected) }
    }

    public struct Settings: Sendable {
        public var beta: Float, kind: PreferenceLoss.Kind, labelSmoothing: Float
        public init(beta: Float, kind: PreferenceLoss.Kind, labelSmoothing: Float) {
            (self.beta, self.kind, self.labelSmoothing) = (beta, kind, labelSmoothing)
        }
    }

    public let model: any CausalLM
    public let parameters: [(String, Tensor)]
    let training: PreferenceTokens, trainingReference: Reference
    let heldOut: (pairs: PreferenceTokens, reference: Reference)?
    let settings: Settings
    /// Answer-token counts per pair (IPO averages log-probabilities over them).
    let trainingCounts: (chosen: [Int], rejected: [Int])

    public init(model: any CausalLM, parameters: [(String, Tensor)], training: PreferenceTokens, reference: Reference,
                heldOut: (PreferenceTokens, Reference)?, settings: Settings) throws {
        for (pairs, ref, what) in [(training, reference, "training")] + (heldOut.map { [($0.0, $0.1, "held-out")] } ?? []) {
            guard ref.chosen.count == pairs.count, ref.rejected.count == pairs.count else {
                throw TrainingError("the reference scores \(ref.chosen.count) \(what) pairs, but there are \(pairs.count)")
            }
        }
        (self.model, self.parameters, self.training, self.trainingReference) = (model, parameters, training, reference)
        self.heldOut = heldOut.map { ($0.0, $0.1) }
        self.settings = settings
        trainingCounts = (SequenceLogProbs.answerTokens(training.chosen), SequenceLogProbs.answerTokens(training.rejected))
    }

    public var examples: Int { training.count }
    public var hasHeldOut: Bool { heldOut != nil }

    /// One micro-batch: the chosen and the rejected answers of `rows` pairs in one forward pass.
    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        (model as? Adaptable)?.adapters.dropoutStep = UInt64(draw)
        let picked = sampler.next(rows)
        let (chosen, rejected) = Self.policy(model, training, picked)  // (B), (B)
        let ref = (picked.map { trainingReference.chosen[$0] }, picked.map { trainingReference.rejected[$0] })
        let loss = Self.loss(chosen: chosen, rejected: rejected, reference: ref,
                             counts: (picked.map { trainingCounts.chosen[$0] }, picked.map { trainingCounts.rejected[$0] }), settings)
        return (loss, picked.count)
    }

    /// The policy's log-probabilities of `rows` pairs: (B) chosen, (B) rejected.
    static func policy(_ model: any CausalLM, _ pairs: PreferenceTokens, _ rows: [Int]) -> (Tensor, Tensor) {
        // Both sides in one batch: the rejected sequences follow the chosen ones.
        var both = TokenArrays()
        for r in rows { let s = pairs.chosen.sequence(r); both.append(Array(s.ids), mask: Array(s.mask)) }
        for r in rows { let s = pairs.rejected.sequence(r); both.append(Array(s.ids), mask: Array(s.mask)) }
        let logps = SequenceLogProbs.of(model, both, rows: Array(0..<(2 * rows.count))).logps.reshaped([2, rows.count])  // (2, B)
        return (logps.slice(axis: 0, 0..<1).reshaped([rows.count]), logps.slice(axis: 0, 1..<2).reshaped([rows.count]))
    }

    /// The loss of a batch given the policy's sums, the reference's and the answer lengths.
    static func loss(chosen: Tensor, rejected: Tensor, reference: ([Float], [Float]), counts: ([Int], [Int]), _ s: Settings) -> Tensor {
        let n = chosen.shape[0]
        var (c, r) = (chosen, rejected)
        var (rc, rr) = reference
        if s.kind == .ipo {
            let lc = counts.0.map { Float($0) }, lr = counts.1.map { Float($0) }
            c = c / Tensor(lc, shape: [n])
            r = r / Tensor(lr, shape: [n])
            rc = zip(rc, lc).map { $0 / $1 }
            rr = zip(rr, lr).map { $0 / $1 }
        }
        return PreferenceLoss.dpo(chosen: c, rejected: r, referenceChosen: Tensor(rc, shape: [n]), referenceRejected: Tensor(rr, shape: [n]),
                                  beta: s.beta, kind: s.kind, labelSmoothing: s.labelSmoothing)
    }

    public func heldOutLoss() -> Double { heldOutEvaluation().loss }

    /// The mean loss over every held-out pair, with TRL's metrics over the whole set.
    public func heldOutEvaluation() -> (loss: Double, metrics: [String: Double]) {
        guard let heldOut else { return (0, [:]) }
        return LanguageModelObjective.withoutDropout(model) {
            let e = Self.evaluate(model, heldOut.pairs, heldOut.reference, settings)
            return (e.loss, e.metrics.values)
        }
    }

    /// The whole set's loss and TRL's metrics, without gradients, 8 pairs at a time.
    public static func evaluate(_ model: any CausalLM, _ pairs: PreferenceTokens, _ reference: Reference, _ s: Settings)
        -> (loss: Double, metrics: DPOMetrics)
    {
        let counts = (SequenceLogProbs.answerTokens(pairs.chosen), SequenceLogProbs.answerTokens(pairs.rejected))
        var total = 0.0
        var chosen: [Float] = [], rejected: [Float] = []
        Tensor.noGrad {
            for start in stride(from: 0, to: pairs.count, by: 8) {
                let rows = Array(start..<Swift.min(pairs.count, start + 8))
                let (c, r) = policy(model, pairs, rows)
                let l = loss(chosen: c, rejected: r, reference: (rows.map { reference.chosen[$0] }, rows.map { reference.rejected[$0] }),
                             counts: (rows.map { counts.0[$0] }, rows.map { counts.1[$0] }), s)
                total += Double(l.item) * Double(rows.count)
                chosen += c.scalars
                rejected += r.scalars
            }
        }
        // The metrics read the log-probabilities as the loss does: per token for IPO.
        func scaled(_ v: [Float], _ n: [Int]) -> [Float] { s.kind == .ipo ? zip(v, n).map { $0 / Float($1) } : v }
        let metrics = DPOMetrics(chosen: scaled(chosen, counts.0), rejected: scaled(rejected, counts.1),
                                 referenceChosen: scaled(reference.chosen, counts.0), referenceRejected: scaled(reference.rejected, counts.1),
                                 beta: Double(s.beta))
        return (total / Double(pairs.count), metrics)
    }
}
