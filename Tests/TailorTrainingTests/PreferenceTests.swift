import Foundation
import TailorModels
import TailorRuntime
@testable import TailorTraining
import XCTest

/// Preference losses and reward models against the numpy reference in
/// Fixtures/preference_reference.py (its output is Fixtures/preference.json).
final class PreferenceTests: XCTestCase {
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/preference.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    func floats(_ v: Any?) -> [Float] { (v as! [Double]).map(Float.init) }

    /// The Bradley–Terry loss and its gradients on fixed rewards, with and without a margin.
    func testBradleyTerryMatchesTheReference() throws {
        let (chosen, rejected) = (floats(Self.fixture["chosen"]), floats(Self.fixture["rejected"]))
        for case_ in Self.fixture["bradley_terry"] as! [[String: Any]] {
            let c = Tensor(chosen, shape: [chosen.count], requiresGrad: true)
            let r = Tensor(rejected, shape: [rejected.count], requiresGrad: true)
            let loss = PreferenceLoss.bradleyTerry(chosen: c, rejected: r, margin: Float(case_["margin"] as! Double))
            XCTAssertEqual(Double(loss.item), case_["loss"] as! Double, accuracy: 1e-6)
            try loss.backward()
            for (got, want) in zip(c.grad!.scalars, floats(case_["grad_chosen"])) { XCTAssertEqual(got, want, accuracy: 1e-6) }
            for (got, want) in zip(r.grad!.scalars, floats(case_["grad_rejected"])) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        }
    }

    /// DPO (with and without label smoothing) and IPO (on per-token log-probabilities): the
    /// loss, its gradients with respect to the policy's log-probabilities, and TRL's metrics.
    func testDPOAndIPOMatchTheReference() throws {
        let d = Self.fixture["dpo"] as! [String: Any]
        let (pc, pr) = (floats(d["policy_chosen"]), floats(d["policy_rejected"]))
        let (rc, rr) = (floats(d["reference_chosen"]), floats(d["reference_rejected"]))
        let counts = (d["count_chosen"] as! [Int], d["count_rejected"] as! [Int])
        for case_ in d["cases"] as! [[String: Any]] {
            let kind = try XCTUnwrap(PreferenceLoss.Kind(rawValue: case_["loss_type"] as! String))
            let settings = DPOObjective.Settings(beta: Float(case_["beta"] as! Double), kind: kind,
                                                 labelSmoothing: Float(case_["label_smoothing"] as! Double))
            let c = Tensor(pc, shape: [pc.count], requiresGrad: true), r = Tensor(pr, shape: [pr.count], requiresGrad: true)
            let loss = DPOObjective.loss(chosen: c, rejected: r, reference: (rc, rr), counts: counts, settings)
            let label = "\(kind) β=\(settings.beta) ε=\(settings.labelSmoothing)"
            XCTAssertEqual(Double(loss.item), case_["loss"] as! Double, accuracy: 1e-5 * max(1, case_["loss"] as! Double), label)
            try loss.backward()
            for (got, want) in zip(c.grad!.scalars, floats(case_["grad_chosen"])) { XCTAssertEqual(got, want, accuracy: 1e-5, label) }
            for (got, want) in zip(r.grad!.scalars, floats(case_["grad_rejected"])) { XCTAssertEqual(got, want, accuracy: 1e-5, label) }
            func perToken(_ v: [Float], _ n: [Int]) -> [Float] { kind == .ipo ? zip(v, n).map { $0 / Float($1) } : v }
            let m = DPOMetrics(chosen: perToken(pc, counts.0), rejected: perToken(pr, counts.1), referenceChosen: perToken(rc, counts.0),
                               referenceRejected: perToken(rr, counts.1), beta: Double(settings.beta))
            for (name, want) in case_["metrics"] as! [String: Double] {
                XCTAssertEqual(try XCTUnwrap(m.values[name], name), want, accuracy: 1e-6, "\(label) \(name)")
            }
        }
    }

    /// Accuracy without ties (TRL's), the mean margin and both score distributions.
    func testRewardMetricsMatchTheReference() {
        let m = RewardMetrics(chosen: floats(Self.fixture["chosen"]), rejected: floats(Self.fixture["rejected"]))
        let want = Self.fixture["metrics"] as! [String: Any]
        XCTAssertEqual(m.pairs, want["pairs"] as? Int)
        XCTAssertEqual(m.ties, want["ties"] as? Int)
        XCTAssertEqual(m.accuracy, want["accuracy"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(m.meanMargin, want["mean_margin"] as! Double, accuracy: 1e-6)
        for (got, key) in [(m.chosen, "chosen_scores"), (m.rejected, "rejected_scores")] {
            let w = want[key] as! [String: Double]
            for (name, value) in got.json { XCTAssertEqual(value, w[name]!, accuracy: 1e-6, "\(key).\(name)") }
        }
    }

    func sequences(_ first: Int32, count: Int, seed: UInt64) -> [[Int32]] {
        let r = Philox(seed: seed).uniform(count: count * 6)
        return (0..<count).map { i in [first] + (0..<(2 + i % 4)).map { 10 + Int32(r[i * 6 + $0] * 30) } }
    }

    /// Trained by the one `Trainer`, a reward model learns which answer ending is preferred
    /// (chosen answers end in token 5, rejected ones in 6) and scores unseen prompts that way.
    func testRewardModelLearnsThePreferredAnswers() throws {
        let backbone = GPT2(config: GPT2Config(vocab: 48, context: 16, width: 32, layers: 2, heads: 4), seed: 5)
        let model = SequenceHeadModel(backbone: backbone, outputs: 1, seed: 6)
        func pairs(_ prompts: [[Int32]]) -> RewardObjective.Pairs { .init(chosen: prompts.map { $0 + [5] }, rejected: prompts.map { $0 + [6] }) }
        backbone.makeTrainable()
        var objective = try RewardObjective(model: model, backbone: backbone.namedParameters, training: pairs(sequences(3, count: 24, seed: 7)),
                                            heldOut: pairs(sequences(3, count: 8, seed: 11)), margin: 0)
        XCTAssertEqual(objective.heldOutLoss(), 0.693, accuracy: 0.05, "an untrained head scores both alike: log 2")
        let settings = TrainingSettings(steps: 30, batch: 8, accumulate: 1, schedule: LearningRateSchedule(peak: 3e-3, warmup: 0, total: 30, shape: .constant),
                                        optimizer: .adamw, weightDecay: 0, gradClip: 1, checkpointEvery: 1000, evaluation: nil)
        _ = try Trainer(settings: settings, seed: 1, scratch: nil).run(&objective)
        let (chosen, rejected) = RewardObjective.scores(model, pairs(sequences(3, count: 8, seed: 11)))
        XCTAssertEqual(RewardMetrics(chosen: chosen, rejected: rejected).accuracy, 1)
        XCTAssertLessThan(objective.heldOutLoss(), 0.3)
    }

    /// A pair longer than the context is an error naming it, not a silent cut.
    func testPairsLongerThanTheContextAreRefused() {
        let backbone = GPT2(config: GPT2Config(vocab: 48, context: 4, width: 16, layers: 1, heads: 2), seed: 5)
        let pairs = RewardObjective.Pairs(chosen: [[1, 2], [1, 2, 3, 4, 5]], rejected: [[1, 3], [1, 3]])
        XCTAssertThrowsError(try RewardObjective(model: SequenceHeadModel(backbone: backbone, outputs: 1), backbone: [], training: pairs,
                                                 heldOut: nil, margin: 0)) { error in
            XCTAssertTrue("\(error)".contains("pair 2 is 5 tokens"), "\(error)")
        }
    }
}
