import Foundation
import TailorModels
import TailorRuntime
import TailorTraining

/// The per-step cost of each continual mitigation against plain fine-tuning, on a randomly
/// initialised GPT-2 of config S (4 layers, width 128, vocabulary 512): batches of 16 examples of
/// a 48-token prompt and a 16-token answer, through the one Trainer a run uses (AdamW, gradient
/// clipping at 1.0). `naive` is a stage without mitigation (replay costs the same per step: it
/// only adds examples), `l2` adds L2-SP's pull, `ewc` the Fisher-weighted pull (the Fisher
/// diagonal over 256 examples, timed apart: `ewc.fisher`'s node), `lwf` the teacher's forward
/// pass and the distillation term, `adapters` a stage of an adapter per task (a fresh rank-16
/// LoRA adapter on every linear module, the base frozen). Each case in its own process, so peak
/// RSS is its own; the median of 20 steps after 2.
enum ContinualBench {
    static func run(_ mitigation: String) {
        let config = GPT2Config(vocab: 512, context: 128, width: 128, layers: 4, heads: 4)
        let model = GPT2(config: config, seed: 1)
        model.makeTrainable()
        var parameters = model.namedParameters
        if mitigation == "adapters" {
            for (_, p) in parameters { p.requiringGrad(false) }
            model.addLoRA(targets: ["all"], rank: 16, alpha: 32, seed: 1)
            parameters = model.adapters.parameters
        }
        let (prompt, answer, batch, warmup, timed) = (48, 16, 16, 2, 20)
        let count = 256
        let draws: [Float] = Philox(seed: 5).uniform(count: count * (prompt + answer), start: 0)
        var tokens = TokenArrays()
        let mask = [UInt8](repeating: 0, count: prompt) + [UInt8](repeating: 1, count: answer + 1)
        for i in 0..<count {
            let w = draws[(i * (prompt + answer))..<((i + 1) * (prompt + answer))].map { 3 + Int32($0 * 509) }
            tokens.append(w + [1], mask: mask)
        }
        let steps = warmup + timed
        let settings = TrainingSettings(steps: steps, batch: batch, accumulate: 1, schedule: LearningRateSchedule(peak: 1e-4, total: steps, shape: .linear),
                                        optimizer: .adamw, weightDecay: 0, gradClip: 1, checkpointEvery: steps + 1, evaluation: nil)
        var precompute: Double?
        do {
            let task = try LanguageModelObjective(model: model, parameters: parameters, tokens: tokens, heldOut: nil, sequence: nil,
                                                  packing: false, trainOnInputs: false)
            let times: [Double]
            switch mitigation {
            case "naive", "adapters":
                var o = task
                times = try timeSteps(&o, settings)
            case "l2":
                var o = AnchoredObjective(task, strength: 0.1)
                times = try timeSteps(&o, settings)
            case "ewc":
                let t0 = Bench.now()
                let fisher = try Fisher.diagonal(model, parameters: parameters, tokens: tokens, limit: 256).fisher
                precompute = Bench.now() - t0
                var o = AnchoredObjective(task, strength: 10, importance: fisher)
                times = try timeSteps(&o, settings)
            case "lwf":
                let teacher = GPT2(config: config, seed: 1)
                var o = try DistilledObjective(model: model, teacher: teacher, parameters: parameters, tokens: tokens, sequence: nil,
                                               trainOnInputs: false, weight: 1, temperature: 2)
                times = try timeSteps(&o, settings)
            default:
                return print("continual: unknown mitigation \(mitigation)")
            }
            let step = Bench.median(Array(times.dropFirst(warmup)))
            print(String(format: "continual S %@: %.0f tokens/s, step median %.1f ms (min %.1f, max %.1f), precompute %@, peak RSS %.0f MB, peak tensor memory %.1f MB",
                         mitigation, Double(batch * (prompt + answer)) / step, step * 1000, times.dropFirst(warmup).min()! * 1000,
                         times.dropFirst(warmup).max()! * 1000, precompute.map { String(format: "%.2f s", $0) } ?? "–", Bench.peakRSS(),
                         Double(TensorMemory.peakBytes) / 1_048_576))
        } catch {
            print("continual \(mitigation): \(error)")
        }
    }

    /// Each step's time, from one step's end to the next.
    static func timeSteps<O: Objective>(_ objective: inout O, _ settings: TrainingSettings) throws -> [Double] {
        var ends = [Bench.now()]
        _ = try Trainer(settings: settings, seed: 7, scratch: nil).run(&objective) { event in
            if case .stepped = event { ends.append(Bench.now()) }
            return .proceed
        }
        return (1..<ends.count).map { ends[$0] - ends[$0 - 1] }
    }
}
