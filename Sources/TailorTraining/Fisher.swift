import TailorModels
import TailorRuntime

/// The diagonal of the empirical Fisher information of a language model on a task: for each
/// trained weight θ_j, F_j = (1/N) Σ_i (∂ℓ_i/∂θ_j)², with ℓ_i = −log p(answer_i | prompt_i),
/// the summed next-token loss of example i's answer tokens (Kirkpatrick et al. 2017, with the
/// data's own answers as the labels). One backward pass per example, over the first `limit`
/// examples that fit the context, in order: deterministic, whatever the thread count.
public enum Fisher {
    /// One example's summed answer loss ℓ_i, a scalar with gradients; nil when it has no
    /// answer tokens.
    public static func exampleLoss(_ model: any CausalLM, _ tokens: TokenArrays, _ i: Int) -> Tensor? {
        let (ids, targets, width) = LanguageModelObjective.batch(tokens, [i], trainOnInputs: false)
        let n = targets.filter { $0 >= 0 }.count
        guard n > 0 else { return nil }
        let logits = model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false)  // (1, T, V)
        return logits.reshaped([width, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1) * Float(n)
    }

    /// F for each of `parameters` (which need gradients only while this runs), in their order,
    /// and the number of examples it averages.
    public static func diagonal(_ model: any CausalLM, parameters: [(String, Tensor)], tokens: TokenArrays, limit: Int) throws
        -> (fisher: [Tensor], examples: Int)
    {
        for (_, p) in parameters { _ = p.requiringGrad() }
        defer { for (_, p) in parameters { _ = p.requiringGrad(false) } }
        var sums = parameters.map { [Double](repeating: 0, count: $0.1.scalars.count) }
        var used = 0
        for i in 0..<tokens.count where used < limit && tokens.offsets[i + 1] - tokens.offsets[i] <= model.context + 1 {
            guard let loss = LanguageModelObjective.withoutDropout(model, { exampleLoss(model, tokens, i) }) else { continue }
            for (_, p) in parameters { p.grad = nil }
            try loss.backward()
            for (k, (_, p)) in parameters.enumerated() {
                guard let g = p.grad?.scalars else { continue }
                for j in g.indices { sums[k][j] += Double(g[j]) * Double(g[j]) }
            }
            used += 1
        }
        for (_, p) in parameters { p.grad = nil }
        guard used > 0 else { throw TrainingError("no example of the task fits the context with an answer to score") }
        let fisher = zip(parameters, sums).map { param, s in Tensor(s.map { Float($0 / Double(used)) }, shape: param.1.shape) }
        return (fisher, used)
    }

    /// Online EWC's importance of one weight tensor (Schwarz et al. 2018, "Progress &
    /// compress"): F* ← γ·F* + F_k over the stages' Fisher diagonals, oldest first, so the
    /// stage k stages back weighs γ^(k−1); γ = 1 sums them.
    public static func online(_ stages: [[Float]], gamma: Float) -> [Float] {
        guard var total = stages.first else { return [] }
        for f in stages.dropFirst() {
            for j in total.indices { total[j] = gamma * total[j] + f[j] }
        }
        return total
    }
}
