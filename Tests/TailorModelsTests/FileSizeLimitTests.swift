import Foundation
import TailorRuntime
import XCTest

@testable import TailorModels

/// Sizes read from model files, near and past every limit: a shape whose product overflows
/// 64 bits, a dimension the file cannot hold, a token id far beyond the vocabulary. Each
/// reader must answer with an error naming the file (or read the file), never trap and never
/// allocate more than the file could hold. The values are generated, not picked by hand.
final class FileSizeLimitTests: XCTestCase {
    /// Dimensions around the powers of two where products overflow.
    static let dims: [Int] = [1, 7, 1 << 20, (1 << 31) - 1, 1 << 31, 1 << 32, (1 << 39) + 1]

    /// Every rank-1 to rank-3 shape over `dims` (and rank 4 at the largest): GGUF tensors of
    /// every supported type. Only shapes whose bytes the file holds may read.
    func testGGUFShapeProductsNeverTrap() throws {
        var shapes: [[Int]] = Self.dims.map { [$0] }
        for a in Self.dims { for b in Self.dims { shapes.append([a, b]) } }
        for a in Self.dims.suffix(3) { for b in Self.dims.suffix(3) { for c in Self.dims.suffix(3) { shapes.append([a, b, c]) } } }
        shapes.append([Self.dims.last!, Self.dims.last!, Self.dims.last!, Self.dims.last!])
        var refused = 0
        for shape in shapes {
            for type: UInt32 in [0, 1, 2, 3, 8, 30, 12] {
                var w = GGUFWriter()
                w.tensor("w", shape: shape, type: type, data: [UInt8](repeating: 0, count: 64))
                do {
                    let file = try GGUFFile(data: w.data())
                    if let info = file.tensors.first, info.type.isSupported { _ = try file.tensor(info) }
                    XCTAssertLessThanOrEqual(CheckedSize.product(shape) ?? .max, 64, "\(shape) read from 64 bytes")
                } catch let error as ModelFileError {
                    refused += 1
                    XCTAssertFalse(error.problem.isEmpty)
                }
            }
        }
        XCTAssertGreaterThan(refused, shapes.count * 6)
        // Past 64 bits in particular: a plain error that says so.
        var w = GGUFWriter()
        w.tensor("w", shape: [1 << 39, 1 << 39], type: 0, data: [])
        XCTAssertThrowsError(try GGUFFile(data: w.data())) { XCTAssertTrue("\($0)".contains("more elements than the file could hold"), "\($0)") }
    }

    /// Safetensors headers whose shape times the element size passes 64 bits, or the data.
    func testSafetensorsShapeProductsNeverTrap() throws {
        for dtype in DType.allCases {
            for a in Self.dims {
                for b in Self.dims {
                    let header = #"{"w":{"dtype":"\#(dtype.rawValue)","shape":[\#(a),\#(b)],"data_offsets":[0,8]}}"#
                    var file = Data(bytes(UInt64(header.utf8.count)))
                    file += Data(header.utf8) + Data(count: 8)
                    if CheckedSize.product([a, b, dtype.size]) == 8 { continue }  // fits: the round-trip tests read those
                    XCTAssertThrowsError(try Safetensors.parse(file), "\(dtype) [\(a), \(b)]") { error in
                        XCTAssertTrue(error is SafetensorsError, "\(error)")
                    }
                }
            }
        }
        let header = #"{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#
        let file = Data(bytes(UInt64(header.utf8.count))) + Data(header.utf8)
        XCTAssertThrowsError(try Safetensors.parse(file)) { XCTAssertTrue("\($0)".contains("does not fit in 64 bits"), "\($0)") }
    }

    /// `tokenizer.json` ids: up to just under the limit reads, at it and beyond (and any
    /// negative id) is refused, for BPE and WordPiece, in the vocabulary and in added tokens.
    func testTokenizerIDsAreBoundedByTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-ids-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bytesVocab = ByteLevel.encode.map { String($0) }
        func bpe(extra id: Int, added: Bool) -> [String: Any] {
            var vocab = Dictionary(uniqueKeysWithValues: bytesVocab.enumerated().map { ($1, $0) })
            var addedTokens: [[String: Any]] = []
            if added { addedTokens.append(["id": id, "content": "<|x|>"]) } else { vocab["zz"] = id }
            return ["model": ["type": "BPE", "vocab": vocab, "merges": []] as [String: Any], "added_tokens": addedTokens,
                    "pre_tokenizer": ["type": "ByteLevel"]]
        }
        func wordPiece(extra id: Int) -> [String: Any] {
            let vocab = ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "a": id]
            return ["model": ["type": "WordPiece", "vocab": vocab] as [String: Any]]
        }
        let entries = bytesVocab.count + 1
        let limit = 4 * entries + 1024
        for id in [limit - 1, limit, limit + 1, 1 << 31, (1 << 31) + 1, 1 << 40, 200_000_000_000, -1, -(1 << 40)] {
            for (name, json) in [("vocab", bpe(extra: id, added: false)), ("added", bpe(extra: id, added: true)), ("wordpiece", wordPiece(extra: id))] {
                let path = dir + "/\(name).json"
                try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
                let allowed = id >= 0 && id < (name == "wordpiece" ? 4 * 6 + 1024 : limit)
                do {
                    _ = try TokenizerJSON.load(path: path)
                    XCTAssertTrue(allowed, "id \(id) in \(name) was accepted")
                } catch let error as ModelFileError {
                    XCTAssertFalse(allowed, "id \(id) in \(name): \(error)")
                    XCTAssertTrue(error.problem.contains("token ids"), error.problem)
                }
            }
        }
    }

    /// A PEFT adapter whose tensors claim impossible shapes, or whose rank pattern holds a
    /// zero rank, is refused by name.
    func testPEFTAdapterSizesAreChecked() throws {
        let model = GPT2(config: GPT2Config(vocab: 40, context: 16, width: 24, layers: 1, heads: 3), seed: 1)
        model.addLoRA(targets: ["mlp.up"], rank: 2, alpha: 4, seed: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-peft-sizes-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PEFTAdapter.save(model, to: dir)
        let configPath = dir + "/adapter_config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
        for rank in [0, -1] {
            config["rank_pattern"] = ["transformer.h.0.mlp.c_fc": rank]
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
            XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: model)) { XCTAssertTrue("\($0)".contains("rank_pattern"), "\($0)") }
        }
        config["rank_pattern"] = [:] as [String: Int]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))
        for (a, b) in [(1 << 31, 1 << 31), ((1 << 39) + 1, 1 << 32), (2, 1 << 40)] {
            let name = "base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight"
            let header = #"{"\#(name)":{"dtype":"F32","shape":[\#(a),\#(b)],"data_offsets":[0,16]}}"#
            let file = Data(bytes(UInt64(header.utf8.count))) + Data(header.utf8) + Data(count: 16)
            try file.write(to: URL(fileURLWithPath: dir + "/adapter_model.safetensors"))
            XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: model)) { error in
                XCTAssertTrue("\(error)".contains("adapter_model.safetensors"), "\(error)")
            }
        }
    }
}

/// Dimensions in model configurations (a Hugging Face `config.json`, GGUF metadata) are
/// bounded before any shape is computed from them: `4 * n_embd` must not trap.
final class ConfigDimensionTests: XCTestCase {
    func testHuggingFaceConfigDimensionsAreBounded() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-hfdims-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Safetensors.write([:], to: dir + "/model.safetensors")
        let configs: [[String: Any]] = [
            ["model_type": "gpt2", "n_embd": 1 << 62, "n_layer": 1, "n_head": 1, "vocab_size": 10, "n_positions": 8],
            ["model_type": "gpt2", "n_embd": 8, "n_layer": 1, "n_head": 1, "vocab_size": 1 << 40, "n_positions": 8],
            ["model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "num_key_value_heads": 1 << 33, "vocab_size": 10,
             "num_hidden_layers": 1, "intermediate_size": 16],
            ["model_type": "llama", "hidden_size": 8, "num_attention_heads": 2, "vocab_size": 10, "num_hidden_layers": 1,
             "intermediate_size": 16, "max_position_embeddings": -5],
        ]
        for config in configs {
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
            let folder = try HuggingFaceFolder(path: dir)
            let load = { () throws -> Void in
                if config["model_type"] as? String == "llama" { _ = try folder.llama() } else { _ = try folder.gpt2() }
            }
            XCTAssertThrowsError(try load(), "\(config)") { error in
                XCTAssertTrue(error is ModelFileError, "\(error)")
            }
        }
    }

    func testGGUFDimensionsAreBounded() throws {
        for (key, value) in [("llama.embedding_length", UInt32(3_000_000_000)), ("llama.feed_forward_length", UInt32.max),
                             ("llama.attention.head_count_kv", UInt32(1) << 31), ("llama.context_length", UInt32.max)] {
            var w = GGUFWriter()
            w.metadata("general.architecture", .string("llama"))
            for (k, v) in [("llama.embedding_length", UInt32(8)), ("llama.attention.head_count", 2), ("llama.block_count", 1),
                           ("llama.feed_forward_length", 16)] where k != key { w.metadata(k, .u32(v)) }
            w.metadata(key, .u32(value))
            w.tensor("token_embd.weight", shape: [4, 8], type: 0, data: [UInt8](repeating: 0, count: 128))
            let file = try GGUFFile(data: w.data())
            XCTAssertThrowsError(try file.llama(), key) { XCTAssertTrue("\($0)".contains("below 2^31"), "\($0)") }
        }
    }
}
