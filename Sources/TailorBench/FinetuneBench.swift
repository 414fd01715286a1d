import Foundation
import TailorModels
import TailorRuntime

/// A LoRA step against a full fine-tuning step on SmolLM2-135M-Instruct (models/smollm2,
/// `make models`): batch 4 × 128 tokens, forward + cross-entropy + backward + AdamW, median of
/// 8 steps after 2 warm-up steps; each in its own process (`smollm2-lora`, `smollm2-full`), so
/// peak RSS is the method's own.
enum FinetuneBench {
    static func run(lora: Bool, path: String = "models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") {
        guard let loaded = try? LoadedModel.open(path), case .decoder(let network) = loaded.backbone, let model = network as? Llama else {
            return print("smollm2: cannot open \(path) (run `make models`)")
        }
        model.makeTrainable()
        let parameters: [Tensor]
        if lora {
            for (_, p) in model.namedParameters { p.requiringGrad(false) }
            model.addLoRA(targets: ["attn.q", "attn.v"], rank: 8, alpha: 16, seed: 1)
            parameters = model.adapters.parameters.map(\.1)
        } else {
            parameters = model.namedParameters.map { $0.1.requiringGrad() }
        }
        var opt = AdamW(parameters, weightDecay: 0)
        let (batch, t) = (4, 128)
        var times: [Double] = []
        for step in 0..<10 {
            let vocab = Float(model.config.vocab), row = t + 1
            let draws: [Float] = Philox(seed: 9).uniform(count: batch * row, start: UInt64(step * batch * row))
            let ids: [Int32] = draws.map { Int32($0 * vocab) }
            var inputs: [Int32] = [], targets: [Int32] = []
            for b in 0..<batch {
                inputs += ids[(b * row)..<(b * row + t)]
                targets += ids[(b * row + 1)..<(b * row + row)]
            }
            let t0 = Bench.now()
            opt.zeroGrad()
            let loss = model.logits(inputs, batch: batch).reshaped([-1, model.config.vocab]).crossEntropy(targets: targets)
            try! loss.backward()
            opt.step(lr: 1e-5)
            if step >= 2 { times.append(Bench.now() - t0) }
        }
        let step = Bench.median(times)
        print(String(format: "SmolLM2-135M %@: %.0f tokens/s, step %.2f s, trainable %d, peak RSS %.0f MB, peak tensor memory %.0f MB",
                     lora ? "LoRA r8 q,v" : "full fine-tuning", Double(batch * t) / step, step, parameters.reduce(0) { $0 + $1.count },
                     Bench.peakRSS(), Double(TensorMemory.peakBytes) / 1_048_576))
    }
}
