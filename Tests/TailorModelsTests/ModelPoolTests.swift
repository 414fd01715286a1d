import Foundation
@testable import TailorModels
import TailorRuntime
import XCTest

/// One base, many skills: readers of a base and of its adapters share one copy of the base's
/// weights, each with its own adapters; a trainer gets a copy of its own.
final class ModelPoolTests: XCTestCase {
    func testReadersShareTheBaseAndTrainersGetTheirOwn() throws {
        let dir = NSTemporaryDirectory() + "tailor-pool-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tokenizer = try BPETrainer(vocabSize: 0).train([String]())
        let base = GPT2(config: GPT2Config(vocab: tokenizer.count, context: 16, width: 16, layers: 1, heads: 2), seed: 1)
        try HuggingFaceFolder.save(base, to: dir + "/base", tokenizer: tokenizer)
        // The adapter folder: the same base weight file, plus an adapter.
        try FileManager.default.copyItem(atPath: dir + "/base", toPath: dir + "/skill")
        let tuned = base.sharingWeights()
        XCTAssertGreaterThan(tuned.addLoRA(targets: ["attn.q"], rank: 2, alpha: 4, seed: 3), 0)
        for (_, p) in tuned.adapters.parameters { p.assign(Tensor((0..<p.count).map { Float($0 % 7) * 0.05 - 0.1 }, shape: p.shape)) }
        try AdapterFiles.save(tuned.adapters, to: dir + "/skill")
        let probe: [Int32] = [1, 2, 3, 4]
        XCTAssertNotEqual(base.logits(probe, batch: 1, cache: nil, keyStart: nil, lastOnly: true).scalars,
                          tuned.logits(probe, batch: 1, cache: nil, keyStart: nil, lastOnly: true).scalars, "in memory")

        let pool = ModelPool()
        let (plain, _) = try pool.sharedDecoder(folder: dir + "/base", weightsDigest: "w")
        let (skilled, _) = try pool.sharedDecoder(folder: dir + "/skill", weightsDigest: "w")
        XCTAssertEqual(pool.hits, 1, "the second reader found the base loaded")
        XCTAssertTrue(plain.namedParameters.first!.1 === skilled.namedParameters.first!.1, "one copy of the base weights")
        XCTAssertTrue((plain as! Adaptable).adapters.isEmpty)
        XCTAssertFalse((skilled as! Adaptable).adapters.isEmpty, "each reader carries its own adapters")
        let ids: [Int32] = [1, 2, 3, 4]
        XCTAssertNotEqual(plain.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: true).scalars,
                          skilled.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: true).scalars)

        let (own, _) = try pool.privateDecoder(folder: dir + "/skill")
        XCTAssertFalse(own.namedParameters.first!.1 === plain.namedParameters.first!.1, "a trainer's copy is its own")
        _ = try pool.sharedDecoder(folder: dir + "/base", weightsDigest: "w")
        XCTAssertEqual(pool.hits, 1, "taking a private copy let go of the shared base")
    }
}
