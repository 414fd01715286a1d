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
}
