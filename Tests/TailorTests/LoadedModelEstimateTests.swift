import Foundation
import TailorData
import TailorDiagnostics
import TailorModels
@testable import TailorPlan
import TailorSpec
import XCTest

/// Estimates for loaded models (their headers, never their weights) and for the lengths of
/// examples (sampled from the data while planning).
final class LoadedModelEstimateTests: SpecFolderTestCase {
    func plan(_ file: String) throws -> Plan {
        var d = DiagnosticBag()
        let p = Compiler().plan(file: file, diagnostics: &d)
        XCTAssertFalse(d.hasErrors, d.items.map { "\($0.message)" }.joined(separator: "\n"))
        return try XCTUnwrap(p)
    }

    static let smolLM2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf").standardized.path

    func smolLM2() throws -> String {
        guard FileManager.default.fileExists(atPath: Self.smolLM2) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("\(Self.smolLM2) is missing: CI must run `make models`") }
            throw XCTSkip("\(Self.smolLM2) is missing: run `make models`")
        }
        return Self.smolLM2
    }

    /// The GGUF header gives the dimensions, and the parameter count from them equals the
    /// file's own tensor table (counted independently, element by element).
    func testGGUFHeaderGivesTheModelsParameters() throws {
        let path = try smolLM2()
        let header = try XCTUnwrap(ModelHeaders.read(path))
        XCTAssertEqual(header.arch.name, "llama")
        let d = header.dims
        XCTAssertEqual([d.layers, d.width, d.heads, d.kvHeads, d.mlp, d.vocab], [30, 576, 9, 3, 1536, 49152])
        XCTAssertTrue(d.tiedHead)
        let counted = try GGUFFile(path: path).tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        XCTAssertEqual(Estimator.parameters(d, arch: header.arch), counted)
    }

    /// A Hugging Face folder's `config.json`, for Llama-like models and BERT encoders.
    func testConfigJSONGivesDimensions() throws {
        let llama = write("llama/config.json", """
            {"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "num_key_value_heads": 2, "intermediate_size": 128, "vocab_size": 100, "max_position_embeddings": 256,
             "tie_word_embeddings": false}
            """)
        let header = try XCTUnwrap(ModelHeaders.read(URL(fileURLWithPath: llama).deletingLastPathComponent().path))
        XCTAssertEqual(header.arch.name, "llama")
        XCTAssertEqual(header.dims, Dimensions(layers: 2, width: 64, heads: 4, kvHeads: 2, context: 256, mlp: 128, vocab: 100, tiedHead: false))
        let bert = write("bert/config.json", """
            {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
             "intermediate_size": 64, "vocab_size": 50, "max_position_embeddings": 64}
            """)
        XCTAssertEqual(ModelHeaders.read(URL(fileURLWithPath: bert).deletingLastPathComponent().path)?.arch.family, .encoder)
        XCTAssertNil(ModelHeaders.read(dir.appendingPathComponent("nothing").path))
    }

    static let spec = """
        tailor: 1
        name: lengths
        seed: 3
        data:
          sums: {generate: addition, count: 200, options: {digits: 2}}
          parts: {from: sums, split: {train: 0.5, test: 0.5}}
        tokenizers:
          bytes: {bytes: true}
        models:
          base:
            arch: gpt2
            size: {layers: 2, width: 32, heads: 2, context: 64}
            tokenizer: bytes
          tuned:
            from: base
            finetune: {}
            train: {data: parts.train, steps: 10, batch: 4}
        evals:
          e: {models: [base], data: parts.test, metrics: [exact_match], max_tokens: 8}
        """

    /// Bytes-tokenized lengths of a generator's first records (the same records the run makes),
    /// and the training tokens and memory that follow from them, not from the context.
    func testExampleLengthsComeFromTheGeneratorsRecords() throws {
        let p = try plan(write("a.yaml", Self.spec))
        let records = Generators.make("addition", count: DataSampler.size, options: ["digits": 2], seed: 3)
        let expected = records.map { ($0["prompt"] as! String).utf8.count + ($0["response"] as! String).utf8.count + 1 }
        let tokens = try XCTUnwrap(p.nodes.first { $0.kind == .dataTokenize }?.estimate.lengths)
        XCTAssertEqual(tokens.total, expected)
        // 4-example batches: each as wide as its longest, less the last token (a target only).
        let widths = stride(from: 0, to: expected.count, by: 4).map { expected[$0..<$0 + 4].max()! }
        let t = Int((Double(widths.reduce(0, +)) / Double(widths.count)).rounded(.up)) - 1
        let train = try XCTUnwrap(p.node("model.tuned")?.estimate)
        XCTAssertEqual(train.tokens, 10 * 4 * t)
        XCTAssertLessThan(t, 16, "two-digit sums are far shorter than the context of 64")
        // Generation: prompts padded to their batch's longest, then up to max_tokens more.
        let eval = try XCTUnwrap(p.node("eval.e.base")?.estimate)
        let prompts = records.map { ($0["prompt"] as! String).utf8.count }
        let promptWidths = stride(from: 0, to: prompts.count, by: 16).map { prompts[$0..<min(prompts.count, $0 + 16)].max()! }
        let perRow = Double(promptWidths.reduce(0, +)) / Double(promptWidths.count) + 8
        XCTAssertEqual(eval.tokens, Int(100 * perRow))
    }

    /// Packed epochs are the examples' tokens cut into rows as wide as `sequence`.
    func testPackedEpochsCountRows() throws {
        let spec = Self.spec.replacingOccurrences(of: "steps: 10, batch: 4", with: "epochs: 2, batch: 4, packing: true, sequence: 32")
        let p = try plan(write("a.yaml", spec))
        let lengths = try XCTUnwrap(p.nodes.first { $0.kind == .dataTokenize }?.estimate.lengths)
        let rows = max(1, Int(100 * lengths.mean) / 32)
        XCTAssertEqual(p.node("model.tuned")?.estimate.tokens, (2 * rows + 3) / 4 * 4 * 32)
    }

    /// A file's records are counted and sampled in its layout (Alpaca: instruction and input
    /// joined as Alpaca's template does).
    func testFilesAreCountedAndSampledInTheirLayout() throws {
        let line = #"{"instruction": "Add", "input": "1 and 2", "output": "3"}"#
        _ = write("alpaca.jsonl", Array(repeating: line, count: 5).joined(separator: "\n") + "\n\n")
        let spec = Self.spec.replacingOccurrences(of: "sums: {generate: addition, count: 200, options: {digits: 2}}",
                                                  with: "sums: {file: alpaca.jsonl, format: alpaca}")
        let p = try plan(write("a.yaml", spec))
        XCTAssertEqual(p.node("data.sums")?.estimate.rows, 5)
        let records = try XCTUnwrap(DataSampler.fileRecords(dir.appendingPathComponent("alpaca.jsonl").path, format: "alpaca", fields: [:]))
        XCTAssertEqual(records.count, 5)
        let prompt = try XCTUnwrap(records[0]["prompt"] as? String)
        XCTAssertTrue(prompt.contains("Add") && prompt.contains("1 and 2"))
        let tokens = try XCTUnwrap(p.nodes.first { $0.kind == .dataTokenize }?.estimate.lengths)
        XCTAssertEqual(tokens.longest, prompt.utf8.count + 1 + 1)
    }

    /// Counting and sampling read a JSON Lines file in blocks: lines that cross a block's end,
    /// blank lines and a last line without a newline are all counted as the run counts them.
    func testLargeFilesAreCountedInBlocks() throws {
        var text = ""
        for i in 0..<40_000 { text += #"{"text": "record \#(i) \#(String(repeating: "x", count: i % 97))"}"# + (i % 1000 == 0 ? "\n  \n" : "\n") }
        let path = write("big.jsonl", text + #"{"text": "last"}"#)
        XCTAssertGreaterThan(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int, 2 << 20, "more than two blocks")
        XCTAssertEqual(DataSampler.recordCount(path), 40_001)
        let records = try XCTUnwrap(DataSampler.fileRecords(path, format: "text", fields: [:]))
        XCTAssertEqual(records.count, DataSampler.size)
        XCTAssertEqual(records.last?["text"] as? String, "record 63 " + String(repeating: "x", count: 63))
    }

    /// Decode steps take the longer of their FLOPs and their streamed weights; the rates come
    /// from the environment when they are positive numbers.
    func testDecodeStepsAreTimedByTheSlowerOfComputeAndBandwidth() {
        var e = Estimate()
        (e.flops, e.streamedFLOPs, e.streamedBytes) = (10, 4, 100)
        XCTAssertEqual(e.seconds(on: MachineProfile(memoryBytes: 1, flops: 1, bandwidth: 10)), 6 + 10)
        XCTAssertEqual(e.seconds(on: MachineProfile(memoryBytes: 1, flops: 1, bandwidth: 1000)), 6 + 4)
        let set = MachineProfile.current(environment: ["TAILOR_FLOPS": "1e11", "TAILOR_BANDWIDTH": "2e9"])
        XCTAssertEqual([set.flops, set.bandwidth], [1e11, 2e9])
        let bad = MachineProfile.current(environment: ["TAILOR_FLOPS": "fast", "TAILOR_BANDWIDTH": "-1"])
        XCTAssertEqual([bad.flops, bad.bandwidth], [MachineProfile.referenceFLOPs, MachineProfile.referenceBandwidth])
    }

    /// `tailor plan` on the SmolLM2 skill spec gives parameters, tokens, FLOPs and memory for
    /// the model, its training and every generation eval, from the header and a data sample.
    func testSmolLM2SkillPlanHasEstimatesForEveryHeavyNode() throws {
        _ = try smolLM2()
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../specs/smollm2-skill.yaml").standardized.path
        let p = try plan(file)
        XCTAssertEqual(p.node("model.smol")?.estimate.parameters, 134_515_008)
        for id in ["model.tuned", "eval.skill.smol", "eval.skill.tuned", "eval.general.smol", "eval.general.tuned"] {
            let e = try XCTUnwrap(p.node(id)?.estimate, id)
            XCTAssertGreaterThan(e.flops ?? 0, 0, id)
            XCTAssertGreaterThan(e.tokens ?? 0, 0, id)
            XCTAssertNotNil(e.peakBytes, id)
        }
        let lengths = try XCTUnwrap(p.node("tokens.chats@model.smol")?.estimate.lengths)
        XCTAssertLessThan(lengths.longest, 200, "chats are tokenized by SmolLM2's own tokenizer, markers as single tokens")
        XCTAssertLessThan(p.node("model.tuned")!.estimate.peakBytes!, 4 * 1_073_741_824)
    }
}
