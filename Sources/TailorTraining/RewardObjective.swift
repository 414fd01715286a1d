import TailorModels
import TailorRuntime

/// A reward model: a scalar head on a decoder's pooled features, trained on preference pairs
/// by the Bradley–Terry loss. Each pair's chosen and rejected sequences (prompt and answer)
/// are scored in one batch.
public struct RewardObjective: Objective {
    /// Preference pairs as token ids: the prompt and the chosen answer, the prompt and the
    /// rejected one.
    public struct Pairs: Sendable {
        public var chosen: [[Int32]], rejected: [[Int32]]
        public init(chosen: [[Int32]], rejected: [[Int32]]) {
            (self.chosen, self.rejected) = (chosen, rejected)
        }
        public var count: Int { chosen.count }
    }

    public let model: SequenceHeadModel
    public let parameters: [(String, Tensor)]
    let training: Pairs, heldOut: Pairs?
    let margin: Float

    /// `backbone`: the decoder weights that train with the head, by name (all of them, or LoRA
    /// adapters on the frozen decoder).
    public init(model: SequenceHeadModel, backbone: [(String, Tensor)], training: Pairs, heldOut: Pairs?, margin: Float) throws {
        guard training.count > 0 else { throw TrainingError("the training data has no preference pairs") }
        if let heldOut, heldOut.count == 0 { throw TrainingError("the held-out data of `train.eval` has no preference pairs") }
        for pairs in [training] + (heldOut.map { [$0] } ?? []) {
            if let i = (0..<pairs.count).first(where: { max(pairs.chosen[$0].count, pairs.rejected[$0].count) > model.backbone.context }) {
                throw TrainingError("preference pair \(i + 1) is \(max(pairs.chosen[i].count, pairs.rejected[i].count)) tokens, "
                                    + "longer than the model's context of \(model.backbone.context)")
            }
        }
        (self.model, self.training, self.heldOut, self.margin) = (model, training, heldOut, margin)
        parameters = [("head.weight", model.head.projection.weight), ("head.bias", model.head.projection.bias!)]
            + backbone.map { ("backbone." + $0.0, $0.1) }
    }

    public var examples: Int { training.count }
    public var hasHeldOut: Bool { heldOut != nil }

    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        (model.backbone as? Adaptable)?.adapters.dropoutStep = UInt64(draw)
        let picked = sampler.next(rows)
        let rewards = model(picked.map { training.chosen[$0] } + picked.map { training.rejected[$0] }).reshaped([2, picked.count])  // (2, B)
        let loss = PreferenceLoss.bradleyTerry(chosen: rewards.slice(axis: 0, 0..<1).reshaped([picked.count]),
                                               rejected: rewards.slice(axis: 0, 1..<2).reshaped([picked.count]), margin: margin)
        return (loss, picked.count)
    }

    /// The mean Bradley–Terry loss over every held-out pair.
    public func heldOutLoss() -> Double {
        guard let heldOut else { return 0 }
        let (chosen, rejected) = LanguageModelObjective.withoutDropout(model.backbone) { Self.scores(model, heldOut) }
        let loss = Tensor.noGrad {
            PreferenceLoss.bradleyTerry(chosen: Tensor(chosen, shape: [chosen.count]), rejected: Tensor(rejected, shape: [rejected.count]), margin: margin)
        }
        return Double(loss.item)
    }

    /// The reward of every chosen and every rejected sequence, without gradients, 16 pairs at a time.
    public static func scores(_ model: SequenceHeadModel, _ pairs: Pairs) -> (chosen: [Float], rejected: [Float]) {
        var chosen: [Float] = [], rejected: [Float] = []
        Tensor.noGrad {
            for start in stride(from: 0, to: pairs.count, by: 16) {
                let rows = start..<min(pairs.count, start + 16)
                let r = model(rows.map { pairs.chosen[$0] } + rows.map { pairs.rejected[$0] }).scalars  // (2·B)
                chosen += r[0..<rows.count]
                rejected += r[rows.count...]
            }
        }
        return (chosen, rejected)
    }
}
