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

    /// Two examples packed in one row give each the logits it gets alone: positions restart
    /// and neither attends to the other.
    func testPackedExamplesMatchSeparateRuns() {
        for model in models() {
            let a: [Int32] = [1, 5, 9, 2, 30], b: [Int32] = [7, 7, 3, 12]
            let packed = Tensor.noGrad {
                model.logits(a + b, batch: 1, packed: PackedRows(segmentStart: [0, 0, 0, 0, 0, 5, 5, 5, 5], width: 9))
            }.scalars
            let alone = Tensor.noGrad {
                model.logits(a, batch: 1, cache: nil, keyStart: nil, lastOnly: false).scalars
                    + model.logits(b, batch: 1, cache: nil, keyStart: nil, lastOnly: false).scalars
            }
            XCTAssertEqual(packed.count, alone.count)
            let worst = zip(packed, alone).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-5, "\(type(of: model))")
            let unpacked = Tensor.noGrad { model.logits(a + b, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
            XCTAssertGreaterThan(zip(unpacked, alone).map { abs($0 - $1) }.max() ?? 0, 1e-3, "without the layout b sees a")
        }
    }

    /// Dropout on the adapters' input: seeded per step (the same step draws the same masks),
    /// a different step draws others, and with dropout off the model is its plain self.
    func testAdapterDropoutIsSeededPerStepAndOffForEvaluation() throws {
        for model in models() {
            freeze(model)
            model.addLoRA(targets: ["all"], rank: 2, alpha: 4, seed: 5)
            for (_, b) in model.adapters.parameters where b.shape[0] == 2 { b.assign(Tensor.randomNormal(b.shape, std: 0.5, rng: Philox(seed: 8))) }
            func logits() -> [Float] { Tensor.noGrad { model.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars }
            let plain = logits()
            model.adapters.dropout = 0.5
            model.adapters.dropoutSeed = 3
            model.adapters.dropoutStep = 1
            let first = logits()
            XCTAssertEqual(logits(), first, "the same step draws the same masks")
            XCTAssertNotEqual(first, plain)
            model.adapters.dropoutStep = 2
            XCTAssertNotEqual(logits(), first)
            model.adapters.dropout = 0
            XCTAssertEqual(logits(), plain)
        }
    }

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

/// The Hugging Face PEFT layout: names, shapes and scale, and a round trip.
final class PEFTTests: XCTestCase {
    func testLlamaAdaptersRoundTripThroughPEFT() throws {
        let config = LlamaConfig(vocab: 40, width: 24, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 16)
        let model = Llama(config: config, seed: 2)
        model.addLoRA(targets: ["attn.q", "attn.v", "mlp.down"], rank: 4, alpha: 8, seed: 3)
        // Give B non-zero values so the adapters matter.
        for (_, adapter) in model.adapters.adapters { adapter.b.assign(Tensor.randomNormal(adapter.b.shape, std: 0.1, rng: Philox(seed: 4))) }
        let ids: [Int32] = [3, 1, 4, 1, 5, 9]
        let before = Tensor.noGrad { model.logits(ids, batch: 1) }.scalars
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-peft-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapter.save(model, to: dir)
        let saved = try Safetensors.read(path: dir + "/adapter_model.safetensors").tensors
        XCTAssertEqual(saved["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"]?.shape, [4, 24], "A is (r, In)")
        XCTAssertEqual(saved["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"]?.shape, [12, 4], "B is (Out, r)")
        XCTAssertEqual(saved["base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"]?.shape, [24, 4])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(json["r"] as? Int, 4)
        XCTAssertEqual(json["lora_alpha"] as? Double, 8)
        XCTAssertEqual(json["target_modules"] as? [String], ["down_proj", "q_proj", "v_proj"])
        // Back onto a fresh copy of the base: the same logits.
        let fresh = Llama(config: config, seed: 2)
        try PEFTAdapter.load(from: dir, into: fresh)
        XCTAssertEqual(fresh.adapters.adapters.count, 6)
        for (a, b) in zip(Tensor.noGrad { fresh.logits(ids, batch: 1) }.scalars, before) { XCTAssertEqual(a, b, accuracy: 1e-6) }

        // A model in GGUF's interleaved rotary layout refuses Hugging Face's q adapter (it would
        // update the wrong rows), naming the module.
        var interleaved = config
        interleaved.interleavedRotary = true
        let ggufLayout = Llama(config: interleaved, embed: fresh.embed, layers: fresh.layers, finalNorm: fresh.finalNorm, head: fresh.head)
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: ggufLayout)) {
            XCTAssertTrue("\($0)".contains("adapts layers.0.attn.q, but this model is in GGUF's rotary layout"), "\($0)")
        }
    }

    func testGPT2QKVAdaptersBecomeOneFusedAdapterWithARankPattern() throws {
        let model = GPT2(config: GPT2Config(vocab: 40, context: 16, width: 24, layers: 1, heads: 3), seed: 1)
        model.addLoRA(targets: ["attn.q", "attn.v", "mlp.up"], rank: 2, alpha: 4, seed: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-peft-gpt2-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapter.save(model, to: dir)
        let saved = try Safetensors.read(path: dir + "/adapter_model.safetensors").tensors
        XCTAssertEqual(saved["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]?.shape, [4, 24], "q and v side by side: rank 4")
        XCTAssertEqual(saved["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"]?.shape, [72, 4])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/adapter_config.json"))) as! [String: Any]
        XCTAssertEqual(json["r"] as? Int, 2)
        XCTAssertEqual((json["rank_pattern"] as? [String: Int])?["transformer.h.0.attn.c_attn"], 4)
        XCTAssertEqual((json["alpha_pattern"] as? [String: Double])?["transformer.h.0.attn.c_attn"], 8, "the same scale, 2")
        // Read back: the fused adapter splits into q, k and v (k's block is zero), logits unchanged.
        for (_, adapter) in model.adapters.adapters { adapter.b.assign(Tensor.randomNormal(adapter.b.shape, std: 0.1, rng: Philox(seed: 6))) }
        try PEFTAdapter.save(model, to: dir)
        let ids: [Int32] = [3, 1, 4, 1, 5, 9]
        let before = Tensor.noGrad { model.logits(ids, batch: 1) }.scalars
        let fresh = GPT2(config: GPT2Config(vocab: 40, context: 16, width: 24, layers: 1, heads: 3), seed: 1)
        try PEFTAdapter.load(from: dir, into: fresh)
        XCTAssertEqual(fresh.adapters.adapters.keys.sorted(), ["layers.0.attn.k", "layers.0.attn.q", "layers.0.attn.v", "layers.0.mlp.up"])
        for (a, b) in zip(Tensor.noGrad { fresh.logits(ids, batch: 1) }.scalars, before) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// An adapter for another model is refused, naming what does not fit.
    func testMismatchedAdaptersAreNamed() throws {
        let model = Llama(config: LlamaConfig(vocab: 40, width: 24, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 16), seed: 2)
        model.addLoRA(targets: ["attn.q"], rank: 2, alpha: 4, seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-peft-bad-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapter.save(model, to: dir)
        let narrower = Llama(config: LlamaConfig(vocab: 40, width: 16, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 16), seed: 2)
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: narrower)) { error in
            XCTAssertTrue("\(error)".contains("the adapter of model.layers.0.self_attn.q_proj is A [2, 24] and B [24, 2], but the module maps 16 to 16 features"), "\(error)")
        }
        let shallower = Llama(config: LlamaConfig(vocab: 40, width: 24, layers: 1, heads: 4, kvHeads: 2, ffn: 40, context: 16), seed: 2)
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: shallower)) { error in
            XCTAssertTrue("\(error)".contains("adapts 1 module(s) this model does not have, e.g. model.layers.1.self_attn.q_proj"), "\(error)")
        }
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir + "/nowhere", into: model))
    }
}
