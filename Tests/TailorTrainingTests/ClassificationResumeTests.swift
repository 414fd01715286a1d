import Foundation
import TailorModels
import TailorRuntime
@testable import TailorTraining
import XCTest

/// The classification objective in the one loop: a head with its whole encoder training,
/// stopped part way and resumed from the checkpoint on a freshly built model, ends with the
/// uninterrupted run's bits, held-out evals and best weights included.
final class ClassificationResumeTests: XCTestCase {
    func objective() throws -> (ClassificationObjective, Bert) {
        let bert = Bert(config: BertConfig(vocab: 24, width: 16, layers: 1, heads: 2, ffn: 32, maxPositions: 16, typeVocab: 2, normEps: 1e-12),
                        seed: 4, std: 0.02)
        bert.makeTrainable()
        let backbone = Backbone.encoder(bert)
        let rng = Philox(seed: 9, stream: 1).uniform(count: 400)
        func examples(_ n: Int, from offset: Int) -> ClassificationObjective.Examples {
            let sequences = (0..<n).map { i in (0..<(4 + i % 5)).map { j in Int32(rng[(offset + 7 * i + j) % 400] * 23) } }
            return .init(sequences: sequences, labels: sequences.map { Int($0.reduce(0, +)) % 2 })
        }
        let o = try ClassificationObjective(backbone: backbone, head: TaskHead(width: 16, outputs: 2, seed: 4), pooling: .mean,
                                            trainingBackbone: backbone.parameters, training: examples(40, from: 0), heldOut: examples(12, from: 200))
        return (o, bert)
    }

    func testAStoppedHeadResumesBitIdentically() throws {
        let dir = NSTemporaryDirectory() + "tailor-head-resume-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let settings = TrainingSettings(steps: 14, batch: 6, accumulate: 2, schedule: LearningRateSchedule(peak: 0.01, warmup: 2, total: 14),
                                        optimizer: .adamw, weightDecay: 0.01, gradClip: 1, checkpointEvery: 4,
                                        evaluation: .init(every: 3, patience: 10))
        var (whole, wholeBert) = try objective()
        let expected = try Trainer(settings: settings, seed: 3, scratch: dir + "/whole").run(&whole)
        var (first, _) = try objective()
        _ = try Trainer(settings: settings, seed: 3, scratch: dir + "/parts").run(&first) { event in
            if case .stepped(let r) = event, r.step == 10 { return .stop }  // the last checkpoint was at step 8
            return .proceed
        }
        var (second, secondBert) = try objective()
        var resumed: Int?
        let summary = try Trainer(settings: settings, seed: 3, scratch: dir + "/parts").run(&second) { event in
            if case .resumed(let step) = event { resumed = step }
            return .proceed
        }
        XCTAssertEqual(resumed, 8)
        XCTAssertEqual(summary.losses, expected.losses)
        XCTAssertEqual(summary.evals.map(\.loss), expected.evals.map(\.loss))
        XCTAssertEqual(second.head.projection.weight.scalars, whole.head.projection.weight.scalars)
        for ((name, a), (_, b)) in zip(secondBert.namedParameters, wholeBert.namedParameters) { XCTAssertEqual(a.scalars, b.scalars, name) }
        XCTAssertGreaterThan(summary.trainableParameters, 2 * 16 + 2, "the encoder trained with the head")
    }
}
