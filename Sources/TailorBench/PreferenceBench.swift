import Foundation
import TailorModels
import TailorRuntime
import TailorTraining

/// Preference-training steps beside TRL's (docs/bench/trl_preference.py, the same shapes): a
/// DPO step (sigmoid loss, β 0.1) and a reward-model step (Bradley–Terry, last-token head) on a
/// randomly initialised GPT-2 of config S or M, batches of 16 pairs whose sequences are a
/// 48-token prompt, a 16-token answer and an end of text (65 tokens), float32, through the
/// one Trainer a run uses (AdamW, gradient clipping at 1.0, linear decay). DPO's reference
/// log-probabilities are computed once before training, as the `dpo.reference` node does
/// (`precompute_s`), so a step is the policy's forward and backward over both answers: TRL's
/// `precompute_ref_log_probs=True` counterpart. A step's time runs from one step's end to the
/// next (TRL's "wall"); the first 2 steps are not timed, then 20 (8 for SmolLM2).
enum PreferenceBench {
    static func run(_ method: String, _ shape: GPTConfig, name: String) {
        let config = GPT2Config(vocab: shape.vocab, context: shape.context, width: shape.width, layers: shape.layers, heads: shape.heads)
        let model = GPT2(config: config, seed: 1)
        model.makeTrainable()
        run(method, model, vocab: shape.vocab, parameters: model.namedParameters, name: name, batch: 16, timed: 20)
    }

    /// DPO on SmolLM2-135M-Instruct (models/smollm2, `make models`) with LoRA rank 8, alpha 16
    /// on q and v, the base frozen (TRL + PEFT's `LoraConfig(r=8, lora_alpha=16,
    /// target_modules=["q_proj", "v_proj"])`); batches of 4 pairs, the median of 8 steps.
    static func smolLM2(path: String = "models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") {
        guard let loaded = try? LoadedModel.open(path), case .decoder(let network) = loaded.backbone, let model = network as? Llama else {
            return print("smollm2: cannot open \(path) (run `make models`)")
        }
        model.makeTrainable()
        for (_, p) in model.namedParameters { p.requiringGrad(false) }
        model.addLoRA(targets: ["attn.q", "attn.v"], rank: 8, alpha: 16, seed: 1)
        run("dpo", model, vocab: model.config.vocab, parameters: model.adapters.parameters, name: "DPO SmolLM2-135M LoRA r8 q,v", batch: 4, timed: 8)
    }

    static func run(_ method: String, _ model: any CausalLM, vocab: Int, parameters: [(String, Tensor)], name: String, batch: Int, timed: Int) {
        let (prompt, answer, warmup) = (48, 16, 2)
        let pairs = batch * (warmup + timed)  // one pass, every batch full
        let eos: Int32 = 1
        let draws: [Float] = Philox(seed: 5).uniform(count: pairs * (prompt + 2 * answer), start: 0)
        let words = draws.map { 3 + Int32($0 * Float(vocab - 3)) }
        var chosen = TokenArrays(), rejected = TokenArrays()
        let mask = [UInt8](repeating: 0, count: prompt) + [UInt8](repeating: 1, count: answer + 1)
        for i in 0..<pairs {
            let w = Array(words[(i * (prompt + 2 * answer))..<((i + 1) * (prompt + 2 * answer))])
            chosen.append(Array(w[0..<prompt] + w[prompt..<(prompt + answer)]) + [eos], mask: mask)
            rejected.append(Array(w[0..<prompt] + w[(prompt + answer)...]) + [eos], mask: mask)
        }
        let steps = warmup + timed
        let settings = TrainingSettings(steps: steps, batch: batch, accumulate: 1, schedule: LearningRateSchedule(peak: 1e-4, total: steps, shape: .linear),
                                        optimizer: .adamw, weightDecay: 0, gradClip: 1, checkpointEvery: steps + 1, evaluation: nil)
        var ends: [Double] = []
        let events: (TrainingEvent) -> TrainingDecision = { event in
            if case .stepped = event { ends.append(Bench.now()) }
            return .proceed
        }
        var precompute: Double?
        let trainable: Int
        do {
            let trainer = Trainer(settings: settings, seed: 7, scratch: nil)
            if method == "dpo" {
                let tokens = try PreferenceTokens(chosen: chosen, rejected: rejected, context: model.context, what: "the pairs")
                let t0 = Bench.now()
                let reference = DPOObjective.Reference(chosen: SequenceLogProbs.all(model, chosen), rejected: SequenceLogProbs.all(model, rejected))
                precompute = Bench.now() - t0
                var objective = try DPOObjective(model: model, parameters: parameters, training: tokens, reference: reference, heldOut: nil,
                                                 settings: .init(beta: 0.1, kind: .sigmoid, labelSmoothing: 0))
                trainable = objective.parameters.reduce(0) { $0 + $1.1.count }
                ends.append(Bench.now())
                _ = try trainer.run(&objective, events: events)
            } else {
                let head = SequenceHeadModel(backbone: model, outputs: 1, pooling: .last, padID: 0, seed: 2)
                let sequences = { (t: TokenArrays) in (0..<t.count).map { Array(t.sequence($0).ids) } }
                var objective = try RewardObjective(model: head, backbone: parameters,
                                                    training: .init(chosen: sequences(chosen), rejected: sequences(rejected)), heldOut: nil, margin: 0)
                trainable = objective.parameters.reduce(0) { $0 + $1.1.count }
                ends.append(Bench.now())
                _ = try trainer.run(&objective, events: events)
            }
        } catch {
            return print("\(name): \(error)")
        }
        let times = (warmup + 1..<ends.count).map { ends[$0] - ends[$0 - 1] }
        let step = Bench.median(times)
        let tokens = Double(2 * batch * (prompt + answer + 1))
        print(String(format: "%@: %.1f pairs/s, %.0f tokens/s, step median %.1f ms (min %.1f, max %.1f), precompute %@, trainable %d, peak RSS %.0f MB",
                     name, Double(batch) / step, tokens / step, step * 1000, times.min()! * 1000, times.max()! * 1000,
                     precompute.map { String(format: "%.2f s", $0) } ?? "–", trainable, Bench.peakRSS()))
    }
}
