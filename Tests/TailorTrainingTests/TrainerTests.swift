import Foundation
import TailorRuntime
@testable import TailorTraining
import XCTest

/// A least-squares fit y = x·w + b as an objective: small enough to reason about, with two
/// named parameters (the second standing for an extra trainable part such as a value head)
/// and a held-out set whose loss can be made to get worse as training goes on.
struct LeastSquares: Objective {
    let w = Tensor([0, 0], shape: [2, 1]), b = Tensor([0], shape: [1])
    let x: [[Float]], y: [Float]
    /// Held-out targets: the same inputs, different answers.
    var heldOutY: [Float]?
    var parameters: [(String, Tensor)] { [("w", w), ("value.b", b)] }
    var examples: Int { x.count }
    var hasHeldOut: Bool { heldOutY != nil }
    /// The rows each micro-batch drew, in order.
    var drawn: [[Int]] = []

    init(heldOutY: [Float]? = nil) {
        x = (0..<12).map { i in [Float(i % 4) - 1.5, Float(i / 4) - 1] }
        y = x.map { 2 * $0[0] - $0[1] + 0.5 }
        self.heldOutY = heldOutY
    }

    func loss(rows: [Int], targets: [Float]) -> Tensor {
        let inputs = Tensor(rows.flatMap { x[$0] }, shape: [rows.count, 2])  // (B, 2)
        let predicted = inputs.matmul(w) + b  // (B, 1)
        return (predicted - Tensor(rows.map { targets[$0] }, shape: [rows.count, 1])).square().mean()
    }

    mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        let picked = sampler.next(rows)
        drawn.append(picked)
        return (loss(rows: picked, targets: y), rows)
    }

    func heldOutLoss() -> Double { Double(loss(rows: Array(0..<x.count), targets: heldOutY ?? y).item) }
}

final class TrainerTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "tailor-trainer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func settings(steps: Int = 20, batch: Int = 4, accumulate: Int = 1, optimizer: TrainingSettings.OptimizerChoice = .adamw,
                  checkpointEvery: Int = 100, evaluation: TrainingSettings.Evaluation? = nil) -> TrainingSettings {
        TrainingSettings(steps: steps, batch: batch, accumulate: accumulate,
                         schedule: LearningRateSchedule(peak: 0.05, warmup: 2, total: steps, shape: .cosine), optimizer: optimizer,
                         weightDecay: 0, gradClip: 1, checkpointEvery: checkpointEvery, evaluation: evaluation)
    }

    func testTrainingFitsAndEverySettingCounts() throws {
        var fit = LeastSquares()
        let before = fit.heldOutLoss()
        let summary = try Trainer(settings: settings(steps: 200), seed: 1, scratch: nil).run(&fit)
        XCTAssertLessThan(fit.heldOutLoss(), before / 50, "the fit learns")
        XCTAssertEqual(summary.losses.count, 200)
        XCTAssertEqual(summary.targets, 800)
        XCTAssertEqual(summary.trainableParameters, 3)
        XCTAssertEqual(summary.ending, .finished)
        XCTAssertFalse(fit.w.requiresGrad, "trained parameters are released from autodiff")
        // Each setting changes the result.
        func weights(_ s: TrainingSettings, seed: UInt64 = 1) throws -> [Float] {
            var o = LeastSquares()
            _ = try Trainer(settings: s, seed: seed, scratch: nil).run(&o)
            return o.w.scalars + o.b.scalars
        }
        let reference = try weights(settings())
        XCTAssertNotEqual(try weights(settings(optimizer: .sgd)), reference, "optimizer")
        XCTAssertNotEqual(try weights(settings(accumulate: 2)), reference, "accumulate")
        XCTAssertNotEqual(try weights(settings(batch: 2)), reference, "batch")
        XCTAssertNotEqual(try weights(settings(), seed: 2), reference, "seed (the data order)")
        XCTAssertEqual(try weights(settings()), reference, "and the same settings give the same bits")
    }

    /// Accumulating micro-batches draws the rows a larger batch would, in the same order, and
    /// scales each loss so the step's gradient is the mean over all of them.
    func testAccumulationMatchesOneLargerBatch() throws {
        var accumulated = LeastSquares(), large = LeastSquares()
        _ = try Trainer(settings: settings(steps: 10, batch: 2, accumulate: 3, optimizer: .sgd), seed: 3, scratch: nil).run(&accumulated)
        _ = try Trainer(settings: settings(steps: 10, batch: 6, optimizer: .sgd), seed: 3, scratch: nil).run(&large)
        XCTAssertEqual(accumulated.drawn.flatMap { $0 }, large.drawn.flatMap { $0 })
        for (a, b) in zip(accumulated.w.scalars + accumulated.b.scalars, large.w.scalars + large.b.scalars) {
            XCTAssertEqual(a, b, accuracy: 1e-5)
        }
    }

    func testTheConsumerCanStopTheRun() throws {
        var fit = LeastSquares()
        var seen: [Int] = []
        let summary = try Trainer(settings: settings(), seed: 1, scratch: nil).run(&fit) { event in
            guard case .stepped(let r) = event else { return .proceed }
            seen.append(r.step)
            return r.step == 7 ? .stop : .proceed
        }
        XCTAssertEqual(seen, Array(1...7))
        XCTAssertEqual(summary.losses.count, 7)
        XCTAssertEqual(summary.ending, .stoppedByConsumer(step: 7))
    }

    /// Held-out answers the training data pulls away from: the eval loss falls, then rises;
    /// training stops after `patience` evals without improvement and keeps the best weights.
    func testEarlyStoppingKeepsTheBestWeights() throws {
        var fit = LeastSquares(heldOutY: LeastSquares().x.map { 1.2 * $0[0] - 0.6 * $0[1] + 0.3 })
        var evaluated: [(Int, Double)] = []
        let summary = try Trainer(settings: settings(steps: 300, evaluation: .init(every: 5, patience: 3)), seed: 1, scratch: nil).run(&fit) { event in
            if case .evaluated(let step, let loss, _) = event { evaluated.append((step, loss)) }
            return .proceed
        }
        guard case .stoppedEarly(let step) = summary.ending else { return XCTFail("it stops early: \(summary.ending)") }
        XCTAssertLessThan(step, 300)
        XCTAssertEqual(summary.evals.map(\.step), evaluated.map(\.0))
        let best = try XCTUnwrap(summary.evals.map(\.loss).min())
        XCTAssertEqual(summary.bestLoss, best)
        XCTAssertEqual(Array(summary.evals.suffix(3)).allSatisfy { $0.loss > best }, true, "three evals without improvement")
        XCTAssertEqual(fit.heldOutLoss(), best, accuracy: 1e-9, "the parameters hold the best eval's weights")
    }

    /// A run stopped part way (as a killed process would be, after its last checkpoint) and
    /// started again on a fresh objective resumes to the uninterrupted run's exact bits: the
    /// optimizer state, the data order, the evals, the best weights and the patience spent
    /// all come back from the checkpoint.
    func testAStoppedRunResumesBitIdentically() throws {
        let heldOut = LeastSquares().x.map { 1.2 * $0[0] - 0.6 * $0[1] + 0.3 }
        let s = settings(steps: 60, checkpointEvery: 4, evaluation: .init(every: 3, patience: 20))
        var whole = LeastSquares(heldOutY: heldOut)
        let expected = try Trainer(settings: s, seed: 5, scratch: dir + "/whole").run(&whole)
        var first = LeastSquares(heldOutY: heldOut)
        _ = try Trainer(settings: s, seed: 5, scratch: dir + "/parts").run(&first) { event in
            if case .stepped(let r) = event, r.step == 26 { return .stop }  // the last checkpoint was at step 24
            return .proceed
        }
        var resumedAt: Int?
        var second = LeastSquares(heldOutY: heldOut)
        let summary = try Trainer(settings: s, seed: 5, scratch: dir + "/parts").run(&second) { event in
            if case .resumed(let step) = event { resumedAt = step }
            return .proceed
        }
        XCTAssertEqual(resumedAt, 24)
        XCTAssertEqual(second.w.scalars + second.b.scalars, whole.w.scalars + whole.b.scalars)
        XCTAssertEqual(summary.losses, expected.losses)
        XCTAssertEqual(summary.evals.map(\.loss), expected.evals.map(\.loss))
        XCTAssertEqual(summary.bestLoss, expected.bestLoss)
        XCTAssertEqual(summary.targets, expected.targets)
    }

    func testNumericFailuresNameTheStep() throws {
        var fit = LeastSquares()
        fit.w.assign(Tensor([.nan, 0], shape: [2, 1]))
        XCTAssertThrowsError(try Trainer(settings: settings(), seed: 1, scratch: nil).run(&fit)) { error in
            XCTAssertTrue("\(error)".contains("step 1:"), "\(error)")
        }
    }

    /// A checkpoint whose bytes were damaged (one flipped, or the whole file garbage) is
    /// discarded with its reason and removed; an intact one resumes.
    func testDamagedCheckpointsAreDiscardedNotResumed() throws {
        let w = Tensor([1, 2, 3, 4], shape: [2, 2])
        var optimizer: any Optimizer = AdamW([w])
        let scratch = dir + "/scratch"
        let file = Checkpoint.path(scratch)
        let state = Checkpoint(step: 7, epoch: 0, position: 3, losses: [1.5], targetTokens: 10)
        try Checkpoint.save(state, parameters: [("w", w)], optimizer: optimizer, scratch: scratch)
        guard case .resumed(let resumed) = Checkpoint.restore(parameters: [("w", w)], optimizer: &optimizer, scratch: scratch) else {
            return XCTFail("an intact checkpoint resumes")
        }
        XCTAssertEqual(resumed.step, 7)
        let good = try Data(contentsOf: URL(fileURLWithPath: file))
        var flipped = good
        flipped[flipped.count - 5] ^= 0x40  // inside a parameter's bytes: still parses, wrong values
        let garbage = Data((0..<good.count).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        for (bad, words) in [(flipped, "bytes do not match its digest"), (garbage, "cannot be read")] {
            try bad.write(to: URL(fileURLWithPath: file))
            guard case .discarded(let why) = Checkpoint.restore(parameters: [("w", w)], optimizer: &optimizer, scratch: scratch) else {
                return XCTFail("a damaged checkpoint must not resume")
            }
            XCTAssertTrue(why.contains(words), why)
            XCTAssertFalse(FileManager.default.fileExists(atPath: file), "discarded means removed: the next attempt does not meet it again")
        }
        XCTAssertEqual(w.scalars, [1, 2, 3, 4], "nothing was loaded from the damaged files")
    }

}
