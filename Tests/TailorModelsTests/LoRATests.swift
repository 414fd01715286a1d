import Foundation
import TailorRuntime
import XCTest

@testable import TailorModels

/// LoRA on both decoders: a fresh adapter changes nothing, only adapters get gradients,
/// training moves the outputs, and merging gives the adapted model's logits.
final class LoRATests: XCTestCase {
    func models() -> [any CausalLM & Adaptable] {
        [GPT2(config: GPT2Config(vocab: 40, context: 16, width: 24, layers: 2, heads: 3), seed: 1),
         Llama(config: LlamaConfig(vocab: 40, width: 24, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 16), seed: 2)]
    }

    let ids: [Int32] = [1, 5, 9, 2, 30, 7, 7, 3]

    func freeze(_ model: any CausalLM) { for (_, p) in model.namedParameters { p.requiringGrad(false) } }

    func testTargetsMatchNamesPatternsAndAll() {
        XCTAssertTrue(AdapterSet.matches("layers.3.attn.q", "attn.q"))
        XCTAssertFalse(AdapterSet.matches("layers.3.attn.k", "attn.q"))
        XCTAssertTrue(AdapterSet.matches("layers.3.attn.k", "attn.*"))
        XCTAssertTrue(AdapterSet.matches("layers.0.mlp.up", "layers.0.*"))
        XCTAssertFalse(AdapterSet.matches("layers.1.mlp.up", "layers.0.*"))
        XCTAssertTrue(AdapterSet.matches("layers.1.mlp.down", "all"))
        let llama = Llama(config: LlamaConfig(vocab: 40, width: 24, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 16), seed: 2)
        XCTAssertEqual(llama.addLoRA(targets: ["attn.q", "attn.v"], rank: 4, alpha: 8, seed: 3), 4)
        XCTAssertEqual(llama.addLoRA(targets: ["all"], rank: 4, alpha: 8, seed: 3), 14)
    }

    func testFreshAdaptersChangeNothingAndOnlyAdaptersLearn() throws {
        for model in models() {
            let before = Tensor.noGrad { model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
            freeze(model)
            model.addLoRA(targets: ["attn.q", "attn.v", "mlp.down"], rank: 2, alpha: 4, seed: 5)
            XCTAssertEqual(Tensor.noGrad { model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars, before,
                           "B starts at zero")
            let trainable = model.adapters.parameters.map(\.1)
            var opt = AdamW(trainable)
            for _ in 0..<5 {
                opt.zeroGrad()
                let loss = model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false).reshaped([-1, 40])
                    .crossEntropy(targets: Array(ids.dropFirst()) + [0])
                try loss.backward()
                XCTAssertTrue(model.namedParameters.allSatisfy { $0.1.grad == nil }, "the frozen base never gets a gradient")
                XCTAssertTrue(trainable.allSatisfy { $0.grad != nil })
                opt.step(lr: 1e-2)
            }
            let after = Tensor.noGrad { model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
            XCTAssertNotEqual(after, before, "training the adapters moved the outputs")
            // Merging folds the adapters into the weights: the same logits, no adapters left.
            model.mergeAdapters()
            XCTAssertTrue(model.adapters.isEmpty)
            let merged = Tensor.noGrad { model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
            for (a, b) in zip(merged, after) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
    }

    func testRankStabilisedScaling() {
        let plain = LoRAAdapter(inputs: 4, outputs: 4, rank: 16, alpha: 32, seed: 1, stream: 0)
        let stable = LoRAAdapter(inputs: 4, outputs: 4, rank: 16, alpha: 32, rsLoRA: true, seed: 1, stream: 0)
        XCTAssertEqual(plain.scale, 2)
        XCTAssertEqual(stable.scale, 8)
    }
}
