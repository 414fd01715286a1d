import Foundation
import TailorRuntime
import XCTest

@testable import TailorModels

/// GPT-2 and Llama in Hugging Face folders: tiny checkpoints written by an independent
/// numpy script (Fixtures/tiny_checkpoints.py, whose float64 logits were checked against
/// `transformers`) load and match; a model Tailor saves reloads bit for bit.
final class HuggingFaceDecoderTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    nonisolated(unsafe) static let reference: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("tiny_checkpoints.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    var ids: [Int32] { (Self.reference["ids"] as! [[Int]]).flatMap { $0.map(Int32.init) } }

    func expected(_ model: String) -> [Double] {
        let entry = (Self.reference["models"] as! [String: Any])[model] as! [String: Any]
        return (entry["logits"] as! [[[Double]]]).flatMap { $0.flatMap { $0 } }
    }

    func assertClose(_ got: [Float], _ want: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        let scale = want.map(abs).max()!
        let worst = zip(got, want).map { abs(Double($0) - $1) }.max()!
        XCTAssertLessThan(worst, 1e-5 * scale, "\(what): worst difference \(worst)", file: file, line: line)
    }

    func testTinyCheckpointsMatchTheReference() throws {
        for (name, folder) in [("gpt2", "tiny-gpt2"), ("llama", "tiny-llama")] {
            let model = try HuggingFaceFolder(path: Self.fixtures.appendingPathComponent(folder).path).causalLM()
            let logits = Tensor.noGrad { model.logits(ids, batch: 2, cache: nil, keyStart: nil, lastOnly: false) }
            XCTAssertEqual(logits.shape, [2, 8, 64])
            assertClose(logits.scalars, expected(name), name)
        }
    }

    func testSavedModelsReloadWithIdenticalLogits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-hf-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gpt2 = GPT2(config: GPT2Config(vocab: 50, context: 16, width: 24, layers: 2, heads: 3), seed: 5)
        try HuggingFaceFolder.save(gpt2, to: dir.appendingPathComponent("gpt2").path)
        let llama = try HuggingFaceFolder(path: Self.fixtures.appendingPathComponent("tiny-llama").path).llama()
        try HuggingFaceFolder.save(llama, to: dir.appendingPathComponent("llama").path)
        let ids: [Int32] = [1, 7, 3, 49, 0, 12]
        for (name, original) in [("gpt2", gpt2 as any CausalLM), ("llama", llama)] {
            let reloaded = try HuggingFaceFolder(path: dir.appendingPathComponent(name).path).causalLM()
            let (a, b) = Tensor.noGrad {
                (original.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false),
                 reloaded.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false))
            }
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), "\(name) saved and reloaded")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gpt2.tmp").path), "no staging folder left")
    }

    func testCachedBatchedDecodingMatchesFullPasses() throws {
        // GPT-2's learned positions count from each sequence's first real token, so a
        // left-padded, cached batch gives the logits of each sequence run on its own.
        let model = try HuggingFaceFolder(path: Self.fixtures.appendingPathComponent("tiny-gpt2").path).gpt2()
        let short: [Int32] = [5, 9, 2], long: [Int32] = [8, 1, 4, 4, 30]
        Tensor.noGrad {
            let cache = model.makeCache(batch: 2, capacity: 8)
            let first = model.logits([0, 0] + short + long, batch: 2, cache: cache, keyStart: [2, 0], lastOnly: true)
            let next = model.logits([11, 12], batch: 2, cache: cache, keyStart: [2, 0], lastOnly: true)
            for (b, sequence) in [short, long].enumerated() {
                let alone = model.logits(sequence, batch: 1, lastOnly: true).scalars
                let extended = model.logits(sequence + [11 + Int32(b)], batch: 1, lastOnly: true).scalars
                for (x, y) in zip(first.slice(axis: 0, b..<b + 1).scalars, alone) { XCTAssertEqual(x, y, accuracy: 1e-4) }
                for (x, y) in zip(next.slice(axis: 0, b..<b + 1).scalars, extended) { XCTAssertEqual(x, y, accuracy: 1e-4) }
            }
        }
    }

    func testMissingAndMisshapenWeightsAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-hf-bad-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny-gpt2/config.json"))
        try config.write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir.path).gpt2()) { XCTAssertTrue("\($0)".contains("neither model.safetensors"), "\($0)") }
        try Safetensors.write(["transformer.wte.weight": Tensor(zeros: [64, 31])], to: dir.appendingPathComponent("model.safetensors").path)
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir.path).gpt2()) { error in
            XCTAssertTrue("\(error)".contains("has no weight") || "\(error)".contains("has shape [64, 31]"), "\(error)")
        }
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir.appendingPathComponent("nothing").path)) {
            XCTAssertTrue("\($0)".contains("no config.json"), "\($0)")
        }
    }
}

extension HuggingFaceDecoderTests {
    /// GGUF keeps Q and K permuted for neighbouring-pair rotation; a model in that layout gives
    /// the same logits, and saving it permutes back to Hugging Face's halves layout.
    func testInterleavedRotaryLayoutRoundTripsThroughTheHalvesLayout() throws {
        let hf = try HuggingFaceFolder(path: Self.fixtures.appendingPathComponent("tiny-llama").path).llama()
        let c = hf.config, d = c.headDim
        /// (In, Out) → the same weight with each head's output rows in GGUF's pair order.
        func interleave(_ w: Tensor, heads: Int) -> Tensor {
            let rows = w.transposed()  // (Out, In)
            let gguf = rows.reshaped([heads, 2, d / 2, rows.shape[1]]).permuted([0, 2, 1, 3]).contiguous().reshaped(rows.shape)
            return gguf.transposed()
        }
        var config = c
        config.interleavedRotary = true
        let layers = hf.layers.map { l -> Llama.Layer in
            var l = l
            l.q = interleave(l.q, heads: c.heads)
            l.k = interleave(l.k, heads: c.kvHeads)
            return l
        }
        let gguf = Llama(config: config, embed: hf.embed, layers: layers, finalNorm: hf.finalNorm, head: hf.head)
        let ids: [Int32] = [3, 14, 15, 9, 26, 5]
        let reference = Tensor.noGrad { hf.logits(ids, batch: 1) }.scalars
        for (a, b) in zip(Tensor.noGrad { gguf.logits(ids, batch: 1) }.scalars, reference) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-hf-rope-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HuggingFaceFolder.save(gguf, to: dir)
        let reloaded = try HuggingFaceFolder(path: dir).llama()
        XCTAssertFalse(reloaded.config.interleavedRotary)
        XCTAssertEqual(reloaded.layers[0].q.transposed().contiguous().scalars, hf.layers[0].q.transposed().contiguous().scalars)
        for (a, b) in zip(Tensor.noGrad { reloaded.logits(ids, batch: 1) }.scalars, reference) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
