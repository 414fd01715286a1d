import Foundation
import TailorModels
import TailorRuntime

/// PPO against a reward model (Ziegler et al. 2019, as TRL's `PPOTrainer`): every `epochs`
/// optimizer steps the policy writes a batch of responses to fresh prompts with the seeded
/// sampler; the reward model scores each response at its end, a per-token KL penalty to the
/// frozen reference is subtracted, a value head on the policy's own hidden states gives GAE
/// advantages, and each of the `epochs` steps minimises the clipped surrogate plus the clipped
/// value loss over that batch (`accumulate` micro-batches of `batch` responses).
public struct PPOObjective: Objective {
    public struct Settings: Sendable {
        /// The KL penalty's starting coefficient; with `targetKL`, Ziegler et al.'s adaptive
        /// controller moves it towards that KL (nats per response) over `horizon` rollouts.
        public var klCoefficient: Double, targetKL: Double?, horizon: Double
        public var clip: Float, valueClip: Float, valueCoefficient: Float
        /// The value head's learning rate as a multiple of the policy's.
        public var valueRateScale: Float
        public var gamma: Float, lambda: Float
        public var epochs: Int, accumulate: Int
        public var maxTokens: Int, temperature: Float
        public init(klCoefficient: Double, targetKL: Double?, horizon: Double, clip: Float, valueClip: Float, valueCoefficient: Float,
                    valueRateScale: Float = 1, gamma: Float, lambda: Float, epochs: Int, accumulate: Int, maxTokens: Int, temperature: Float) {
            (self.klCoefficient, self.targetKL, self.horizon) = (klCoefficient, targetKL, horizon)
            (self.clip, self.valueClip, self.valueCoefficient, self.valueRateScale) = (clip, valueClip, valueCoefficient, valueRateScale)
            (self.gamma, self.lambda, self.epochs, self.accumulate) = (gamma, lambda, epochs, accumulate)
            (self.maxTokens, self.temperature) = (maxTokens, temperature)
        }
    }

    /// One batch of rollouts as its epochs read it: prompt (mask 0) and response (mask 1) per
    /// row, with each response token's log-probability under the policy that wrote it, its
    /// value, whitened advantage and return.
    struct Rollouts {
        var sequences = TokenArrays()
        var oldLogps: [[Float]] = [], values: [[Float]] = [], advantages: [[Float]] = [], returns: [[Float]] = []
    }

    public let policy: any CausalLM
    public let valueHead: TaskHead
    public let parameters: [(String, Tensor)]
    /// The frozen reference; nil: the policy with its LoRA adapters switched off.
    let reference: (any CausalLM)?
    let reward: SequenceHeadModel
    let tokenizer: BPETokenizer
    let prompts: [[Int32]]
    let settings: Settings
    let seed: UInt64
    var coefficient: Double
    var current = Rollouts()
    /// One entry per batch of rollouts: what TRL logs (`objective/scores`, `objective/kl`, …).
    public private(set) var history: [[String: Double]] = []

    /// `policyParameters`: what trains in the policy (every weight, or adapters); the value
    /// head trains with them.
    public init(policy: any CausalLM, policyParameters: [(String, Tensor)], reference: (any CausalLM)?, reward: SequenceHeadModel,
                tokenizer: BPETokenizer, prompts: [[Int32]], settings: Settings, seed: UInt64) throws {
        guard !prompts.isEmpty else { throw TrainingError("the training data has no prompts") }
        if reference == nil, (policy as? Adaptable)?.adapters.isEmpty ?? true {
            throw TrainingError("PPO without a reference model needs LoRA adapters on the policy")
        }
        // Room for the longest response and the end of text the reward model reads after it.
        let context = Swift.min(policy.context, reward.backbone.context)
        let long = prompts.indices.filter { prompts[$0].count + settings.maxTokens + 1 > context }
        if let first = long.first {
            throw TrainingError("\(long.count) of the \(prompts.count) prompts leave no room for \(settings.maxTokens) response tokens and an end "
                                + "of text in the context of \(context) tokens (the first, prompt \(first + 1), is \(prompts[first].count) tokens); "
                                + "lower `ppo.max_tokens` or shorten the prompts")
        }
        if let empty = prompts.firstIndex(where: \.isEmpty) { throw TrainingError("prompt \(empty + 1) is empty") }
        valueHead = TaskHead(width: policy.width, outputs: 1, seed: seed ^ 0x76616c7565)  // "value"
        (self.policy, self.reference, self.reward, self.tokenizer) = (policy, reference, reward, tokenizer)
        (self.prompts, self.settings, self.seed) = (prompts, settings, seed)
        coefficient = settings.klCoefficient
        parameters = policyParameters + [("value_head.weight", valueHead.projection.weight), ("value_head.bias", valueHead.projection.bias!)]
    }

    public var examples: Int { prompts.count }
    public var hasHeldOut: Bool { false }
    /// The value head starts from nothing and must reach the reward's scale within the run; the
    /// policy is already trained and moves slowly.
    public var rateScales: [Float]? { parameters.map { $0.0.hasPrefix("value_head.") ? settings.valueRateScale : 1 } }
    public func heldOutLoss() -> Double { 0 }

    /// The KL coefficient and the log so far, for a resumed run.
    public var resumeState: [String: [Double]] {
        get {
            var state: [String: [Double]] = ["kl_coefficient": [coefficient]]
            for key in Set(history.flatMap(\.keys)) { state["history." + key] = history.map { $0[key] ?? .nan } }
            return state
        }
        set {
            coefficient = newValue["kl_coefficient"]?.first ?? settings.klCoefficient
            let keys = newValue.keys.filter { $0.hasPrefix("history.") }
            let count = keys.map { newValue[$0]!.count }.max() ?? 0
            history = (0..<count).map { i in
                Dictionary(uniqueKeysWithValues: keys.map { (String($0.dropFirst("history.".count)), newValue[$0]![i]) })
            }
        }
    }

    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        let step = draw / settings.accumulate, micro = draw % settings.accumulate
        if micro == 0, step % settings.epochs == 0 {
            current = rollOut(sampler.next(rows * settings.accumulate), batch: step / settings.epochs)
        }
        (policy as? Adaptable)?.adapters.dropoutStep = UInt64(draw)
        let part = Array((micro * rows)..<Swift.min(current.sequences.count, (micro + 1) * rows))
        let (logps, values, _) = forward(current.sequences, part, entropy: false)  // (K), (K)
        let (pg, pgClip) = PPOMath.policyLoss(logps: logps, old: part.flatMap { current.oldLogps[$0] },
                                              advantages: part.flatMap { current.advantages[$0] }, clip: settings.clip)
        let (vf, vfClip) = PPOMath.valueLoss(values: values, old: part.flatMap { current.values[$0] },
                                             returns: part.flatMap { current.returns[$0] }, clip: settings.valueClip)
        // Means over the batch's epochs and micro-batches.
        let n = Double(settings.epochs * settings.accumulate)
        for (key, value) in [("policy/clipfrac", pgClip), ("value/clipfrac", vfClip), ("loss/policy", Double(pg.item)), ("loss/value", Double(vf.item))] {
            history[history.count - 1][key, default: 0] += value / n
        }
        return (pg + vf * settings.valueCoefficient, logps.shape[0])
    }

    /// The policy's log-probability and value at every response token of `rows` (in order, row
    /// by row), with gradients; and, when asked, the mean entropy of its next-token distribution there.
    func forward(_ sequences: TokenArrays, _ rows: [Int], entropy: Bool) -> (logps: Tensor, values: Tensor, entropy: Double) {
        let (ids, targets, width) = LanguageModelObjective.batch(sequences, rows, trainOnInputs: false)
        let hidden = policy.hidden(ids, batch: rows.count, cache: nil, keyStart: nil)  // (B, T, C)
        let logits = policy.logits(fromHidden: hidden).reshaped([rows.count * width, policy.vocab])  // (B·T, V)
        let positions = targets.indices.filter { targets[$0] >= 0 }.map(Int32.init)
        let k = positions.count
        let picked = logits.targetLogProbs(targets: targets, ignoreIndex: -1).reshaped([1, rows.count * width])  // (1, B·T)
        let values = valueHead(hidden).reshaped([1, rows.count * width])  // (1, B·T)
        var h = 0.0
        if entropy {
            let l = Tensor.noGrad { logits.contiguous() }
            let v = policy.vocab
            for p in positions {
                let row = l.pointer + Int(p) * v
                var m = -Float.infinity
                for i in 0..<v where row[i] > m { m = row[i] }
                var s = 0.0, weighted = 0.0
                for i in 0..<v {
                    let e = Foundation.exp(Double(row[i] - m))
                    s += e
                    weighted += e * Double(row[i] - m)
                }
                h += Foundation.log(s) - weighted / s  // −Σ p log p
            }
            h /= Double(Swift.max(1, k))
        }
        return (picked.gather(positions, k: k).reshaped([k]), values.gather(positions, k: k).reshaped([k]), h)
    }

    /// Each response token's log-probability under the reference: the frozen model, or the
    /// policy with its adapters off.
    func referenceLogps(_ sequences: TokenArrays) -> [[Float]] {
        let model: any CausalLM
        var restore: (() -> Void)?
        if let reference {
            model = reference
        } else {
            let adaptable = policy as! Adaptable  // checked in init
            let adapters = adaptable.adapters
            adaptable.adapters = AdapterSet()
            restore = { adaptable.adapters = adapters }
            model = policy
        }
        defer { restore?() }
        return perToken(sequences) { rows in
            let (ids, targets, width) = LanguageModelObjective.batch(sequences, rows, trainOnInputs: false)
            let all = model.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)  // (B, T, V)
                .reshaped([rows.count * width, model.vocab]).targetLogProbs(targets: targets, ignoreIndex: -1).scalars
            return targets.indices.filter { targets[$0] >= 0 }.map { all[$0] }
        }
    }

    /// A per-token quantity of every sequence, 16 sequences at a time, split back per sequence.
    func perToken(_ sequences: TokenArrays, _ body: ([Int]) -> [Float]) -> [[Float]] {
        let lengths = SequenceLogProbs.answerTokens(sequences)
        var out: [[Float]] = []
        for start in stride(from: 0, to: sequences.count, by: 16) {
            let rows = Array(start..<Swift.min(sequences.count, start + 16))
            var flat = body(rows)[...]
            for r in rows {
                out.append(Array(flat.prefix(lengths[r])))
                flat = flat.dropFirst(lengths[r])
            }
        }
        return out
    }

    /// A batch of rollouts for `rows` of the prompts: responses sampled with the batch's own
    /// seed, scored at their end (an end of text added where the response has none), penalised
    /// per token by the KL to the reference, valued and turned into whitened advantages; its log
    /// entry opened, and the adaptive KL coefficient moved.
    mutating func rollOut(_ rows: [Int], batch: Int) -> Rollouts {
        let (r, entry) = Tensor.noGrad {
            LanguageModelObjective.withoutDropout(policy) { () -> (Rollouts, [String: Double]) in
                let options = SamplingOptions(maxTokens: settings.maxTokens, temperature: settings.temperature,
                                              seed: seed &+ 0x9e37_79b9 &* UInt64(batch + 1))
                let generated = Generator(model: policy, tokenizer: tokenizer).generate(ids: rows.map { prompts[$0] }, options: options)
                var r = Rollouts()
                for (row, g) in zip(rows, generated) {
                    r.sequences.append(prompts[row] + g.ids,
                                       mask: [UInt8](repeating: 0, count: prompts[row].count) + [UInt8](repeating: 1, count: g.ids.count))
                }
                let lengths = SequenceLogProbs.answerTokens(r.sequences)
                var entropy = 0.0
                for start in stride(from: 0, to: rows.count, by: 16) {
                    let part = Array(start..<Swift.min(rows.count, start + 16))
                    let (logps, values, h) = forward(r.sequences, part, entropy: true)
                    let (l, v) = (logps.scalars, values.scalars)
                    var offset = 0
                    for row in part {
                        r.oldLogps.append(Array(l[offset..<(offset + lengths[row])]))
                        r.values.append(Array(v[offset..<(offset + lengths[row])]))
                        offset += lengths[row]
                    }
                    entropy += h * Double(l.count)
                }
                let reference = referenceLogps(r.sequences)
                let eos = tokenizer.eos ?? 0
                let scored = zip(rows, generated).map { row, g in
                    prompts[row] + g.ids + (g.ids.last.map { tokenizer.endOfGeneration.contains($0) } == true ? [] : [eos])
                }
                var scores: [Float] = []
                for start in stride(from: 0, to: scored.count, by: 16) {
                    scores += reward(Array(scored[start..<Swift.min(scored.count, start + 16)])).scalars
                }
                var advantages: [[Float]] = []
                var k3 = 0.0, k1 = 0.0
                for i in rows.indices {
                    let rewards = PPOMath.tokenRewards(score: scores[i], logps: r.oldLogps[i], referenceLogps: reference[i],
                                                       klCoefficient: Float(coefficient))
                    let (a, ret) = PPOMath.advantages(rewards: rewards, values: r.values[i], gamma: settings.gamma, lambda: settings.lambda)
                    advantages.append(a)
                    r.returns.append(ret)
                    k3 += PPOMath.klK3(logps: r.oldLogps[i], referenceLogps: reference[i])
                    k1 += PPOMath.klK1(logps: r.oldLogps[i], referenceLogps: reference[i])
                }
                var white = PPOMath.whiten(advantages.flatMap { $0 })[...]
                r.advantages = advantages.map { a in
                    defer { white = white.dropFirst(a.count) }
                    return Array(white.prefix(a.count))
                }
                let n = Double(rows.count), tokens = Double(lengths.reduce(0, +))
                let entry: [String: Double] = [
                    "objective/scores": scores.reduce(0.0) { $0 + Double($1) } / n, "objective/kl": k3 / n, "objective/kl_k1": k1 / n,
                    "objective/entropy": entropy / Swift.max(1, tokens), "objective/kl_coef": coefficient, "response_length": tokens / n,
                ]
                return (r, entry)
            }
        }
        history.append(entry)
        if let target = settings.targetKL {
            var controller = PPOMath.AdaptiveKL(coefficient: coefficient, target: target, horizon: settings.horizon)
            controller.update(kl: entry["objective/kl"]!, batch: rows.count)
            coefficient = controller.coefficient
        }
        return r
    }
}
