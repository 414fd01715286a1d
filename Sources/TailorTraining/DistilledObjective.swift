import TailorModels
import TailorRuntime

/// Learning without Forgetting (Li & Hoiem 2017) for a language model: the next-token loss on
/// the new task, plus `weight` × the distillation loss towards a frozen teacher (the model as
/// the stage began) on the same inputs, at every answer position:
/// T² · (1/n) Σ_positions Σ_v −softmax(teacher/T)_v · log softmax(student/T)_v.
/// This is the KL divergence from the teacher's distribution less its entropy, a constant for
/// the student, so the gradients are the KL's; T² keeps them at the scale of T = 1
/// (Hinton et al. 2015). Rows are right-padded (no packing), as the teacher reads them too.
public struct DistilledObjective: Objective {
    public let model: any CausalLM
    let teacher: any CausalLM
    public let parameters: [(String, Tensor)]
    let tokens: TokenArrays
    let width: Int
    let trainOnInputs: Bool
    let weight: Float, temperature: Float

    public init(model: any CausalLM, teacher: any CausalLM, parameters: [(String, Tensor)], tokens: TokenArrays, sequence: Int?,
                trainOnInputs: Bool, weight: Float, temperature: Float) throws {
        guard tokens.count > 0 else { throw TrainingError("the training data is empty") }
        let width = Swift.min(sequence ?? model.context, model.context)
        for i in 0..<tokens.count where tokens.offsets[i + 1] - tokens.offsets[i] > width + 1 {
            throw TrainingError("example \(i + 1) is \(tokens.offsets[i + 1] - tokens.offsets[i]) tokens, longer than the rows of \(width) "
                                + "(+1 for the last target); distillation does not pack examples")
        }
        (self.model, self.teacher, self.parameters, self.tokens) = (model, teacher, parameters, tokens)
        (self.width, self.trainOnInputs, self.weight, self.temperature) = (width, trainOnInputs, weight, temperature)
    }

    public var examples: Int { tokens.count }
    public var hasHeldOut: Bool { false }
    public func heldOutLoss() -> Double { 0 }

    /// The task's loss and the weighted distillation term of one batch of `rows`.
    public func losses(_ rows: [Int]) -> (task: Tensor, distillation: Tensor, targets: Int) {
        let (ids, targets, rowWidth) = LanguageModelObjective.batch(tokens, rows, trainOnInputs: trainOnInputs)
        let n = targets.filter { $0 >= 0 }.count
        let logits = model.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)
            .reshaped([rows.count * rowWidth, model.vocab])  // (B·T, V)
        let task = logits.crossEntropy(targets: targets, ignoreIndex: -1)
        // The teacher's soft targets, zero where nothing is learned: a constant.
        let soft: Tensor = Tensor.noGrad {
            let p = (teacher.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)
                .reshaped([rows.count * rowWidth, teacher.vocab]) / temperature).softmax().scalars
            var masked = [Float](repeating: 0, count: p.count)
            for (r, t) in targets.enumerated() where t >= 0 {
                for v in 0..<model.vocab { masked[r * model.vocab + v] = p[r * model.vocab + v] }
            }
            return Tensor(masked, shape: [rows.count * rowWidth, model.vocab])
        }
        let distillation = -(soft * (logits / temperature).logSoftmax()).sum() * (temperature * temperature / Float(Swift.max(1, n)))
        return (task, distillation, n)
    }

    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        let (task, distillation, n) = losses(sampler.next(rows))
        return (task + distillation * weight, n)
    }
}
