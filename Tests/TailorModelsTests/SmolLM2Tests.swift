import Foundation
import Synchronization
import TailorRuntime
import XCTest

@testable import TailorModels

/// SmolLM2-135M-Instruct (GGUF, Q4_1/Q8_0) against the independent numpy reference in
/// Fixtures/smollm2_reference.py, whose output is Fixtures/smollm2.json. The model comes
/// from PyPI through `make models`; without it these tests are skipped locally and fail in CI.
final class SmolLM2Tests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let data = try! Data(contentsOf: root.appendingPathComponent("Fixtures/smollm2.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()
    nonisolated(unsafe) static var loaded: Loaded?

    struct Loaded {
        var model: Llama, tokenizer: BPETokenizer, chatTemplate: ChatTemplate, gguf: GGUFFile
    }

    func model() throws -> Loaded {
        if let loaded = Self.loaded { return loaded }
        let path = ProcessInfo.processInfo.environment["TAILOR_SMOLLM2"]
            ?? Self.root.appendingPathComponent("../../models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").standardized.path
        guard FileManager.default.fileExists(atPath: path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(path) is missing: CI must run `make models`") }
            throw XCTSkip("\(path) is missing: run `make models`")
        }
        let opened = try LoadedModel.open(path)
        let (model, tokenizer) = try opened.decoder()
        let loaded = Loaded(model: model as! Llama, tokenizer: tokenizer, chatTemplate: try opened.chatTemplate(), gguf: try GGUFFile(path: path))
        Self.loaded = loaded
        return loaded
    }

    func testConfigAndDequantisedWeightsMatchTheReference() throws {
        let m = try model()
        let config = Self.fixture["config"] as! [String: Any]
        XCTAssertEqual(m.model.config.layers, config["block_count"] as? Int)
        XCTAssertEqual(m.model.config.width, config["embedding_length"] as? Int)
        XCTAssertEqual(m.model.config.heads, config["head_count"] as? Int)
        XCTAssertEqual(m.model.config.kvHeads, config["head_count_kv"] as? Int)
        XCTAssertEqual(m.model.config.ffn, config["feed_forward_length"] as? Int)
        XCTAssertEqual(m.model.config.vocab, config["vocab_size"] as? Int)
        XCTAssertEqual(m.model.config.ropeBase, 100_000)
        XCTAssertTrue(m.model.config.tiedHead)
        XCTAssertEqual(try m.chatTemplate.render(prompt: "Hi"), "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
                       + "trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "the model's own template")
        for entry in Self.fixture["tensors"] as! [[String: Any]] {
            let name = entry["name"] as! String
            let t = try m.gguf.tensor(name)
            let values = t.scalars
            let expected = entry["row0_first8"] as! [Double]
            for (a, b) in zip(values.prefix(8), expected) { XCTAssertEqual(Double(a), b, accuracy: 1e-6 * Swift.max(1, abs(b)), name) }
            if let sum = entry["sum"] as? Double {
                XCTAssertEqual(values.reduce(0.0) { $0 + Double($1) }, sum, accuracy: 1e-3 * Swift.max(1, abs(sum)), name)
            }
        }
    }

    func testTokenIDsEqualTheReferenceTokenizer() throws {
        let tokenizer = try model().tokenizer
        for case let entry as [String: Any] in Self.fixture["tokenizer"] as! [Any] {
            let text = entry["text"] as! String
            let ids = (entry["ids"] as! [Int]).map(Int32.init)
            XCTAssertEqual(tokenizer.encode(text), ids, "ids of \(text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(ids), text, "decoding \(text.debugDescription)")
        }
    }

    func testTokenizerJSONRoundTripsTheTokenizer() throws {
        let tokenizer = try model().tokenizer
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-tokenizer-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TokenizerJSON.data(tokenizer).write(to: URL(fileURLWithPath: path))
        let reread = try TokenizerJSON.bpe(path: path, eos: "<|im_end|>")
        XCTAssertEqual(reread.vocabulary, tokenizer.vocabulary)
        XCTAssertEqual(reread.preTokenizer, .digitsThenGPT2)
        for case let entry as [String: Any] in Self.fixture["tokenizer"] as! [Any] {
            let text = entry["text"] as! String
            XCTAssertEqual(reread.encode(text), tokenizer.encode(text), text.debugDescription)
        }
    }

    func testLastPromptLogitsMatchTheReference() throws {
        let m = try model()
        for case let chat as [String: Any] in Self.fixture["chat"] as! [Any] {
            let prompt = (chat["prompt_ids"] as! [Int]).map(Int32.init)
            XCTAssertEqual(m.tokenizer.encode(chat["text"] as! String), prompt)
            let logits = Tensor.noGrad { m.model.logits(prompt, batch: 1, lastOnly: true) }.scalars
            let reference = chat["last_logits"] as! [String: Any]
            var pairs = (reference["top"] as! [[Double]]).map { (Int($0[0]), $0[1]) }
            pairs += zip(reference["sample_ids"] as! [Int], reference["sample_logits"] as! [Double]).map { ($0, $1) }
            let scale = pairs.map { abs($0.1) }.max()!
            for (id, expected) in pairs {
                // 1e-3 relative to the largest logit: float32 through 30 layers against float64.
                XCTAssertEqual(Double(logits[id]), expected, accuracy: 1e-3 * scale, "logit \(id)")
            }
        }
    }

    func testGreedyAnswersEqualTheReference() throws {
        let m = try model()
        let generator = Generator(model: m.model, tokenizer: m.tokenizer)
        let chats = (Self.fixture["chat"] as! [[String: Any]])
        let prompts = chats.map { ($0["prompt_ids"] as! [Int]).map(Int32.init) }
        let expected = chats.map { ($0["generated_ids"] as! [Int]).map(Int32.init) }
        // One batch of prompts of different lengths (left-padded) gives each prompt's own answer.
        let results = generator.generate(ids: prompts, options: SamplingOptions(maxTokens: 24))
        for (result, want) in zip(results, expected) { XCTAssertEqual(result.ids, want) }
        XCTAssertEqual(results[0].text, "The capital of France is Paris.")
        XCTAssertEqual(results[0].finish, .endOfText)
        XCTAssertEqual(results[2].finish, .length)
        // Stop strings cut the text before them.
        let stopped = generator.generate(ids: [prompts[0]], options: SamplingOptions(maxTokens: 24, stop: [" is"]))[0]
        XCTAssertEqual(stopped.text, "The capital of France")
        XCTAssertEqual(stopped.finish, .stop)
    }

    /// The serving decoder, multiplying the file's Q4_1 and Q8_0 blocks as they are by 8-bit
    /// activations, gives the float64 reference's logits within the noise that quantising
    /// activations makes, and its greedy tokens wherever the reference's choice is clear of that
    /// noise (teacher forced: the reference's tokens are fed back). Its prompts decoded together by
    /// continuous batching (two at a time, read in slices of 16 tokens, so through the kernels'
    /// four-row path) get the bits they get decoded alone, token by token.
    func testBlockDecoderGivesTheReferenceLogitsAndAnswers() throws {
        let m = try model()
        let decoding = try m.gguf.decodingLlama()
        let chats = Self.fixture["chat"] as! [[String: Any]]
        let prompts = chats.map { ($0["prompt_ids"] as! [Int]).map(Int32.init) }
        // Rounding activations to 8 bits moves the logits chaotically: a rounding that falls the
        // other way in one layer moves every later one. Scaling each block's rounding step by
        // 1 + k·1e-7 (k = −2…3) moved the first prompt's top logits by 0.3 to 1.1 (up to 4.5% of
        // the largest), mostly together, and a shift common to all logits changes no probability.
        // So logits are compared relative to the reference's top token, within 5% of the largest
        // (the low ones move most: 0.9 for one 15 below the top).
        let bound = 0.05
        var checked = 0
        for (chat, prompt) in zip(chats, prompts) {
            let cache = decoding.makeCache(capacity: prompt.count + 24)
            var logits = decoding.step([DecodeSegment(cache: cache, tokens: prompt)]).scalars
            let reference = chat["last_logits"] as! [String: Any]
            let pairs = (reference["top"] as! [[Double]]).map { (Int($0[0]), $0[1]) }
                + zip(reference["sample_ids"] as! [Int], reference["sample_logits"] as! [Double]).map { ($0, $1) }
            let scale = pairs.map { abs($0.1) }.max()!, (top, topLogit) = pairs[0]
            for (id, expected) in pairs {
                XCTAssertEqual(Double(logits[id] - logits[top]), expected - topLogit, accuracy: bound * scale, "logit \(id) relative to \(top)")
            }
            for (token, margin) in zip(chat["generated_ids"] as! [Int], chat["top1_top2_margins"] as! [Double]) {
                if margin > 2 * bound * scale {
                    XCTAssertEqual(logits.indices.max { logits[$0] < logits[$1] }, token, "\(chat["prompt"]!): a clear greedy choice")
                    checked += 1
                }
                logits = decoding.step([DecodeSegment(cache: cache, tokens: [Int32(token)])]).scalars
            }
        }
        XCTAssertGreaterThan(checked, 10, "enough clear choices to check")
        // Batched as a server would: the same tokens as one prompt at a time, one token per step.
        let decoder = BatchDecoder(model: decoding, tokenizer: m.tokenizer, maxSequences: 2, stepTokens: 16)
        let results = Mutex([Int: Generation]())
        var timings = GenerationTimings()
        decoder.run(prompts.enumerated().map { i, ids in
            BatchDecoder.Request(ids: ids, options: SamplingOptions(maxTokens: 24), stream: i) { r in results.withLock { $0[i] = r } }
        }, timings: &timings)
        let got = results.withLock { $0 }
        for (i, prompt) in prompts.enumerated() {
            let cache = decoding.makeCache(capacity: prompt.count + 24)
            var alone = [Int32](), next = prompt
            while alone.count < 24 {
                let logits = decoding.step([DecodeSegment(cache: cache, tokens: next)]).scalars
                alone.append(Int32(logits.indices.max { logits[$0] < logits[$1] }!))
                if m.tokenizer.endOfGeneration.contains(alone.last!) { break }
                next = [alone.last!]
            }
            XCTAssertEqual(got[i]?.ids, alone, "chat \(i)")
        }
    }

    func testSeededSamplingIsReproducibleAndSeedDependent() throws {
        let m = try model()
        let generator = Generator(model: m.model, tokenizer: m.tokenizer)
        let prompt = m.tokenizer.encode(try m.chatTemplate.render(prompt: "Write a haiku about the sea."))
        let options = SamplingOptions(maxTokens: 12, temperature: 1, topK: 40, topP: 0.95, seed: 11)
        let a = generator.generate(ids: [prompt], options: options)[0]
        let b = generator.generate(ids: [prompt, Array(prompt.prefix(5))], options: options)[0]
        XCTAssertEqual(a.ids, b.ids, "the same seed gives the same tokens, whatever else is in the batch")
        var other = options
        other.seed = 12
        XCTAssertNotEqual(generator.generate(ids: [prompt], options: other)[0].ids, a.ids)
        // top-k 1 is greedy at any temperature.
        let greedy = generator.generate(ids: [prompt], options: SamplingOptions(maxTokens: 12))[0]
        XCTAssertEqual(generator.generate(ids: [prompt], options: SamplingOptions(maxTokens: 12, temperature: 5, topK: 1, seed: 3))[0].ids, greedy.ids)
    }
}
