import Dispatch
import Foundation
import Synchronization
import TailorRuntime
import XCTest

@testable import TailorModels

/// The serving decoders: block matrices multiply as their decoded values, each output row depends
/// on its input row alone, and a decoding model gives the training model's logits, adapters
/// included, for every sequence of a continuously batched step whatever shares it.
final class DecodingTests: XCTestCase {
    /// Random bytes of valid blocks: f16 scales in [0.01, 0.1), minimums in [−0.5, 0.5), any quants.
    func blocks(_ encoding: BlockMatrix.Encoding, rows: Int, columns: Int, seed: UInt64) -> Data {
        let u = Philox(seed: seed, stream: 0).uniform(count: rows * columns / 32 * encoding.blockBytes)
        var bytes = u.map { UInt8(Swift.min(255, Int($0 * 256))) }
        for b in 0..<rows * columns / 32 {
            let at = b * encoding.blockBytes
            for (k, value) in [(0, 0.01 + 0.09 * u[at]), (2, u[at + 1] - 0.5)] where k == 0 || encoding == .q4_1 {
                let bits = Float16(value).bitPattern
                bytes[at + k] = UInt8(bits & 0xFF)
                bytes[at + k + 1] = UInt8(bits >> 8)
            }
        }
        return Data(bytes)
    }

    /// x as 8-bit blocks keep it: each block of 32 in steps of its largest magnitude over 127,
    /// rounded to the nearest step, ties to even.
    func quantised(_ x: [Float]) -> [Float] {
        stride(from: 0, to: x.count, by: 32).flatMap { start -> [Float] in
            let block = x[start..<start + 32], step = block.map(abs).max()! / 127
            return block.map { step == 0 ? 0 : ($0 * (1 / step)).rounded(.toNearestOrEven) * step }
        }
    }

    /// Block-encoded matrices multiply x as 8-bit blocks keep it (`quantised`), by their decoded
    /// values; each row of x gets the same bits alone as among others.
    func testBlockMatricesMultiplyAsTheirDecodedValuesOneRowAtATime() throws {
        let (rows, columns, n) = (37, 96, 7)
        var x = Philox(seed: 3, stream: 1).uniform(count: n * columns).map { 2 * $0 - 1 }
        for j in 32..<64 { x[j] = 0 }  // a block of zeros, whose step is zero
        for j in 64..<96 { x[j] = x[j] < 0 ? -0.5 : 0.5 }  // equal magnitudes: every value is ±127 steps
        let kept = quantised(x)
        for encoding in [BlockMatrix.Encoding.q8_0, .q4_0, .q4_1] {
            let m = try BlockMatrix(encoding, rows: rows, columns: columns, bytes: blocks(encoding, rows: rows, columns: columns, seed: 7))
            var w = [Float](repeating: 0, count: rows * columns)
            w.withUnsafeMutableBufferPointer { p in for r in 0..<rows { m.decodeRow(r, into: p.baseAddress! + r * columns) } }
            // The decoding agrees with GGUF's dequantisation of the same bytes.
            var dequantised = [Float](repeating: 0, count: rows * columns)
            let type: GGMLType = encoding == .q8_0 ? .q8_0 : encoding == .q4_0 ? .q4_0 : .q4_1
            blocks(encoding, rows: rows, columns: columns, seed: 7).withUnsafeBytes { raw in
                dequantised.withUnsafeMutableBufferPointer { GGMLType.dequantize(type, raw.baseAddress!, into: $0.baseAddress!, count: rows * columns) }
            }
            XCTAssertEqual(w, dequantised, encoding.rawValue)
            var y = [Float](repeating: 0, count: n * rows)
            y.withUnsafeMutableBufferPointer { m.multiply(x, rows: n, into: $0.baseAddress!) }
            for i in 0..<n {
                for o in 0..<rows {
                    let exact = (0..<columns).reduce(0.0) { $0 + Double(w[o * columns + $1]) * Double(kept[i * columns + $1]) }
                    XCTAssertEqual(Double(y[i * rows + o]), exact, accuracy: 1e-5 * Swift.max(1, abs(exact)), "\(encoding) row \(i) out \(o)")
                }
                var alone = [Float](repeating: 0, count: rows)
                alone.withUnsafeMutableBufferPointer { p in Array(x[i * columns..<(i + 1) * columns]).withUnsafeBufferPointer {
                    m.multiply($0.baseAddress!, rows: 1, into: p.baseAddress!)
                } }
                XCTAssertEqual(alone, Array(y[i * rows..<(i + 1) * rows]), "\(encoding): row \(i) alone gets the bits it gets among \(n)")
            }
        }
        XCTAssertThrowsError(try BlockMatrix(.q4_1, rows: 2, columns: 32, bytes: Data(count: 39)), "too few bytes")
        XCTAssertThrowsError(try BlockMatrix(.q8_0, rows: 2, columns: 48, bytes: Data(count: 102)), "a partial block")
    }

    /// Tiny models whose adapters are non-zero, so adapter updates show in the logits.
    func adapted() -> [(any CausalLM & Adaptable, any DecodingModel)] {
        let llama = Llama(config: LlamaConfig(vocab: 40, width: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 24), seed: 2)
        let gpt2 = GPT2(config: GPT2Config(vocab: 40, context: 24, width: 32, layers: 2, heads: 4), seed: 1)
        return [(llama, DecodingLlama(llama)), (gpt2, DecodingGPT2(gpt2))]
    }

    func view(of model: any CausalLM & Adaptable, seed: UInt64) -> any CausalLM & Adaptable {
        let view: any CausalLM & Adaptable = (model as? Llama)?.sharingWeights() ?? (model as! GPT2).sharingWeights()
        view.addLoRA(targets: ["all"], rank: 4, alpha: 8, seed: seed)
        var set = view.adapters
        for (i, name) in set.adapters.keys.sorted().enumerated() {
            let b = set.adapters[name]!.b
            set.adapters[name]!.b = Tensor(Philox(seed: seed, stream: UInt64(100 + i)).uniform(count: b.count).map { $0 - 0.5 }, shape: b.shape)
        }
        view.adapters = set
        return view
    }

    func testDecodingGivesTheTrainingModelsLogitsWithAndWithoutAdapters() {
        let prompt: [Int32] = [1, 5, 9, 2, 30, 7], continuation: [Int32] = [3, 12, 8]
        for (model, decoding) in adapted() {
            for adapter in [nil, view(of: model, seed: 5)] {
                let reference: any CausalLM = adapter ?? model
                let adapters = adapter.map { DecodingAdapters($0.adapters) }
                let cache = decoding.makeCache(capacity: 12)
                var got = decoding.step([DecodeSegment(cache: cache, tokens: prompt, adapters: adapters)]).scalars
                for token in continuation { got += decoding.step([DecodeSegment(cache: cache, tokens: [token], adapters: adapters)]).scalars }
                let full = Tensor.noGrad { reference.logits(prompt + continuation, batch: 1, cache: nil, keyStart: nil, lastOnly: false) }.scalars
                let v = decoding.vocab
                let expected = (prompt.count - 1...prompt.count + continuation.count - 1).flatMap { Array(full[$0 * v..<($0 + 1) * v]) }
                XCTAssertEqual(got.count, expected.count)
                // The cache keeps keys and values in Float16 (11 significant bits): measured 1.4e-4 and
                // 1.6e-4 at most here, where the Float32 cache gave under 1e-4; an adapter left out
                // moves these logits by tenths.
                let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 1
                XCTAssertLessThan(worst, 5e-4, "\(type(of: model)), adapter: \(adapter != nil)")
                XCTAssertEqual(cache.length, prompt.count + continuation.count)
            }
        }
    }

    /// One sequence's logits, step after step, are the same bits alone and in a batch with others
    /// that use another adapter, start later and read their prompts in slices.
    func testASequenceGetsTheSameBitsWhateverSharesItsSteps() {
        for (model, decoding) in adapted() {
            let other = DecodingAdapters(view(of: model, seed: 9).adapters)
            let a: [Int32] = [4, 8, 15, 16], steps: [Int32] = [23, 32, 1]  // tokens of the 40-token vocabulary
            let alone = decoding.makeCache(capacity: 10)
            var expected = [decoding.step([DecodeSegment(cache: alone, tokens: a)]).scalars]
            for t in steps { expected.append(decoding.step([DecodeSegment(cache: alone, tokens: [t])]).scalars) }

            let shared = decoding.makeCache(capacity: 10), b = decoding.makeCache(capacity: 20), c = decoding.makeCache(capacity: 20)
            var got = [decoding.step([DecodeSegment(cache: b, tokens: [1, 2, 3, 4, 5, 6, 7], adapters: other),
                                      DecodeSegment(cache: shared, tokens: a),
                                      DecodeSegment(cache: c, tokens: [9, 9], adapters: other, wantsLogits: false)])]
            for (i, t) in steps.enumerated() {
                got.append(decoding.step([DecodeSegment(cache: c, tokens: [9, 9, 9], adapters: other, wantsLogits: i == 2),
                                          DecodeSegment(cache: shared, tokens: [t]), DecodeSegment(cache: b, tokens: [Int32(i)], adapters: other)]))
            }
            let v = decoding.vocab
            XCTAssertEqual(Array(got[0].scalars[v..<2 * v]), expected[0], "\(type(of: model)): the prompt's logits")
            for i in 1...steps.count {
                XCTAssertEqual(Array(got[i].scalars[(i == 3 ? v : 0)..<(i == 3 ? 2 * v : v)]), expected[i], "\(type(of: model)): step \(i)")
            }
            XCTAssertEqual(got[1].shape, [2, v], "a segment that does not ask for logits gets none")
        }
    }

    /// The batch decoder's greedy text equals the generator's, for several prompts at once, with
    /// stop strings and a token limit; prompts that ask for nothing end at once.
    func testBatchDecoderContinuesAsTheGenerator() throws {
        let tokenizer = try BPETrainer(vocabSize: 300).train(["the quick brown fox jumps over the lazy dog", "a stitch in time saves nine"])
        let model = Llama(config: LlamaConfig(vocab: tokenizer.vocabulary.count, width: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 24),
                          seed: 2)
        let prompts: [[Int32]] = [[101, 102, 103], [107], [104, 104, 104, 104, 104, 104]]
        let options = SamplingOptions(maxTokens: 8, temperature: 0, stop: [tokenizer.decode([110])])
        let expected = Generator(model: model, tokenizer: tokenizer).generate(ids: prompts, options: options)
        let decoder = BatchDecoder(model: DecodingLlama(model), tokenizer: tokenizer, maxSequences: 2, stepTokens: 4)
        let results = Mutex([Int: Generation]())
        var timings = GenerationTimings()
        decoder.run(prompts.enumerated().map { i, ids in
            BatchDecoder.Request(ids: ids, options: options, stream: i) { r in results.withLock { $0[i] = r } }
        }, timings: &timings)
        XCTAssertEqual(prompts.indices.map { results.withLock { $0 }[$0]?.ids }, expected.map(\.ids))
        XCTAssertEqual(prompts.indices.map { results.withLock { $0 }[$0]?.finish }, expected.map(\.finish))
        XCTAssertEqual(timings.promptTokens, 10)
    }

    /// A prompt that begins with a finished sequence's tokens copies their keys and values instead
    /// of reading them: fewer prompt tokens read, and the same tokens and logits as read afresh. A
    /// sequence under other adapters, or a decoder that keeps nothing, reads everything.
    func testAPromptReusesAFinishedSequencesPrefixBitForBit() throws {
        let tokenizer = try BPETrainer(vocabSize: 300).train(["the quick brown fox jumps over the lazy dog", "a stitch in time saves nine"])
        let model = Llama(config: LlamaConfig(vocab: tokenizer.vocabulary.count, width: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 48),
                          seed: 2)
        let decoding = DecodingLlama(model), other = DecodingAdapters(view(of: model, seed: 9).adapters)
        let system: [Int32] = [101, 102, 103, 104, 105, 106, 107, 108]
        let options = SamplingOptions(maxTokens: 6, temperature: 0, ignoreEndOfText: true)
        /// The results of `prompts` run one after another on `decoder`, and the prompt tokens each read.
        func run(_ decoder: BatchDecoder, _ prompts: [([Int32], DecodingAdapters?)]) -> [(Generation, Int)] {
            prompts.map { ids, adapters in
                let result = Mutex<Generation?>(nil)
                var timings = GenerationTimings()
                decoder.run([BatchDecoder.Request(ids: ids, options: options, adapters: adapters) { r in result.withLock { $0 = r } }], timings: &timings)
                return (result.withLock { $0! }, timings.promptTokens)
            }
        }
        let prompts: [([Int32], DecodingAdapters?)] = [(system + [120, 121], nil), (system + [130], nil), (system + [140, 141], other), (system + [150], nil)]
        let reusing = run(BatchDecoder(model: decoding, tokenizer: tokenizer), prompts)
        let fresh = run(BatchDecoder(model: decoding, tokenizer: tokenizer, keptBytes: 0), prompts)
        XCTAssertEqual(reusing.map(\.0.ids), fresh.map(\.0.ids), "reuse changes no token")
        XCTAssertEqual(fresh.map(\.1), [10, 9, 10, 9], "without kept caches every prompt token is read")
        XCTAssertEqual(reusing.map(\.1), [10, 1, 10, 1], "the shared tokens are copied; another adapter's cache is not used")

        // Bit for bit: the logits after a copied prefix are those of the prefix read afresh.
        let first = decoding.makeCache(capacity: 12), second = decoding.makeCache(capacity: 12), copied = decoding.makeCache(capacity: 12)
        _ = decoding.step([DecodeSegment(cache: first, tokens: system + [120])])
        let expected = decoding.step([DecodeSegment(cache: second, tokens: system + [130])]).scalars
        copied.copyPrefix(of: first, count: system.count)
        XCTAssertEqual(decoding.step([DecodeSegment(cache: copied, tokens: [130])]).scalars, expected)
    }

    /// The cache budget holds a request back until others end (one alone always runs); requests
    /// that end at admission do not stop `run` before the rest; a cancelled request ends at the
    /// next step with finish `cancelled`, waiting or running.
    func testBudgetCancellationAndRequestsThatEndAtOnce() throws {
        let tokenizer = try BPETrainer(vocabSize: 300).train(["the quick brown fox jumps over the lazy dog", "a stitch in time saves nine"])
        let model = Llama(config: LlamaConfig(vocab: tokenizer.vocabulary.count, width: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 40, context: 24),
                          seed: 2)
        let decoding = DecodingLlama(model)
        let options = SamplingOptions(maxTokens: 4, temperature: 0, ignoreEndOfText: true)
        let perPosition = SequenceKV.bytes(layers: 2, kvHeads: 2, headDim: 8, capacity: 1)
        let tight = BatchDecoder(model: decoding, tokenizer: tokenizer, cacheBytes: 10 * perPosition)
        let results = Mutex([Int: Generation]())
        var timings = GenerationTimings()
        tight.run((0..<3).map { i in
            BatchDecoder.Request(ids: [101, 102, Int32(103 + i)], options: options, stream: i) { r in results.withLock { $0[i] = r } }
        }, timings: &timings)
        XCTAssertEqual(results.withLock { $0.count }, 3)
        XCTAssertEqual(tight.widestStep, 1, "two caches of 7 positions do not fit 10 positions' bytes")

        let one = BatchDecoder(model: decoding, tokenizer: tokenizer, maxSequences: 1)
        results.withLock { $0 = [:] }
        one.run([BatchDecoder.Request(ids: [101], options: SamplingOptions(maxTokens: 0)) { r in results.withLock { $0[0] = r } },
                 BatchDecoder.Request(ids: [101, 102], options: options) { r in results.withLock { $0[1] = r } }], timings: &timings)
        XCTAssertEqual(results.withLock { $0[0]?.ids }, [])
        XCTAssertEqual(results.withLock { $0[1]?.ids.count }, 4, "the second runs though the first ended at admission")

        let served = BatchDecoder(model: decoding, tokenizer: tokenizer, maxSequences: 1)
        let ended = DispatchSemaphore(value: 0)
        results.withLock { $0 = [:] }
        let long = SamplingOptions(maxTokens: 20, temperature: 0, ignoreEndOfText: true)
        // The first cancels itself at its second token, but only once the second is cancelled:
        // on a busy machine it could otherwise end, and let the second start, before that.
        let secondCancelled = DispatchSemaphore(value: 0)
        served.submit(BatchDecoder.Request(ids: [101], options: long, id: 1,
                                           onToken: { r in if r.ids.count == 2 { secondCancelled.wait(); served.cancel(1) } },
                                           onFinish: { r in results.withLock { $0[1] = r }; ended.signal() }))
        served.submit(BatchDecoder.Request(ids: [102], options: long, id: 2) { r in results.withLock { $0[2] = r }; ended.signal() })
        served.cancel(2)  // still waiting behind the first
        secondCancelled.signal()
        for _ in 0..<2 { XCTAssertEqual(ended.wait(timeout: .now() + 30), .success) }
        XCTAssertEqual(results.withLock { $0[1]?.finish }, .cancelled)
        XCTAssertLessThan(results.withLock { $0[1]?.ids.count ?? 99 }, 20)
        XCTAssertEqual(results.withLock { $0[2]?.finish }, .cancelled)
        XCTAssertEqual(results.withLock { $0[2]?.ids }, [])
    }
}
