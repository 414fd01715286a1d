import TailorRuntime
import XCTest

@testable import TailorModels

/// Task heads on a small GPT-2: pooling reads the right positions, and a classifier and a
/// reward model learn simple rules in a few AdamW steps.
final class HeadTests: XCTestCase {
    func testPoolingReadsRealPositionsOnly() {
        let hidden = Tensor((0..<12).map(Float.init), shape: [2, 3, 2])  // (B, T, C)
        XCTAssertEqual(Pooling.last.pool(hidden, lengths: [2, 3]).scalars, [2, 3, 10, 11])
        XCTAssertEqual(Pooling.first.pool(hidden, lengths: [2, 3]).scalars, [0, 1, 6, 7])
        XCTAssertEqual(Pooling.mean.pool(hidden, lengths: [2, 3]).scalars, [1, 2, 8, 9])
    }

    func sequences(_ first: Int32, count: Int, seed: UInt64) -> [[Int32]] {
        let r = Philox(seed: seed).uniform(count: count * 6)
        return (0..<count).map { i in [first] + (0..<(2 + i % 4)).map { 10 + Int32(r[i * 6 + $0] * 30) } }
    }

    func testClassifierLearnsTheFirstToken() throws {
        let backbone = GPT2(config: GPT2Config(vocab: 48, context: 16, width: 32, layers: 2, heads: 4), seed: 1)
        let model = SequenceHeadModel(backbone: backbone, outputs: 2, pooling: .last, seed: 2)
        let train = sequences(1, count: 16, seed: 3) + sequences(2, count: 16, seed: 4)
        let labels = [Int32](repeating: 0, count: 16) + [Int32](repeating: 1, count: 16)
        var opt = AdamW(backbone.namedParameters.map(\.1) + [model.head.projection.weight, model.head.projection.bias!], weightDecay: 0)
        var first: Float = 0, last: Float = 0
        for step in 0..<40 {
            opt.zeroGrad()
            let loss = model.classificationLoss(train, labels: labels)
            try loss.backward()
            opt.step(lr: 3e-3)
            if step == 0 { first = loss.item }
            last = loss.item
        }
        XCTAssertLessThan(last, first / 4, "loss \(first) → \(last)")
        let heldOut = sequences(1, count: 6, seed: 9) + sequences(2, count: 6, seed: 10)
        let predicted = Tensor.noGrad { model(heldOut) }.argmax(axis: 1)
        XCTAssertEqual(predicted, Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6))
    }

    func testRewardModelPrefersTheChosenAnswers() throws {
        // Chosen answers end in token 5, rejected ones in token 6.
        let backbone = GPT2(config: GPT2Config(vocab: 48, context: 16, width: 32, layers: 2, heads: 4), seed: 5)
        let model = SequenceHeadModel(backbone: backbone, outputs: 1, seed: 6)
        let prompts = sequences(3, count: 12, seed: 7)
        let (chosen, rejected) = (prompts.map { $0 + [5] }, prompts.map { $0 + [6] })
        var opt = AdamW(backbone.namedParameters.map(\.1) + [model.head.projection.weight, model.head.projection.bias!])
        let before = try model.preferenceLoss(chosen: chosen, rejected: rejected).item
        XCTAssertEqual(before, 0.693, accuracy: 0.05, "an untrained head scores both alike: log 2")
        for _ in 0..<30 {
            opt.zeroGrad()
            let loss = model.preferenceLoss(chosen: chosen, rejected: rejected)
            try loss.backward()
            opt.step(lr: 3e-3)
        }
        let fresh = sequences(3, count: 5, seed: 11)
        let rewards = Tensor.noGrad { model(fresh.map { $0 + [5] } + fresh.map { $0 + [6] }) }.scalars
        for i in 0..<5 { XCTAssertGreaterThan(rewards[i], rewards[5 + i], "prompt \(i)") }
    }
}
