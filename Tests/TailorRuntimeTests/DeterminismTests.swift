import Foundation
import TailorRuntime
import XCTest

/// Same seed ⇒ bit-identical results whatever the thread count: kernels use fixed
/// partitions and OpenBLAS never splits the inner dimension.
final class DeterminismTests: XCTestCase {
    /// A few AdamW steps of a small MLP + layer norm + attention on big enough tensors
    /// that the kernels really split into chunks; returns the final weights' bits.
    func train(threads: Int) throws -> [UInt32] {
        Runtime.setThreads(threads)
        defer { Runtime.setThreads(ProcessInfo.processInfo.activeProcessorCount) }
        let w1 = Tensor.randomNormal([64, 256], std: 0.1, rng: Philox(seed: 1)).requiringGrad()
        let w2 = Tensor.randomNormal([256, 64], std: 0.1, rng: Philox(seed: 2)).requiringGrad()
        let lnw = Tensor(repeating: 1, shape: [64], requiresGrad: true), lnb = Tensor(zeros: [64], requiresGrad: true)
        var opt = AdamW([w1, w2, lnw, lnb], weightDecay: 0.1)
        let x = Tensor.randomNormal([4, 128, 64], rng: Philox(seed: 3))  // (B, T, C)
        let targets = Philox(seed: 4).uniform(count: 4 * 128).map { Int32($0 * 64) }
        for _ in 0..<3 {
            opt.zeroGrad()
            let h = x.layerNorm(weight: lnw, bias: lnb).matmul(w1).gelu().matmul(w2)  // (B, T, C)
            let heads = h.reshaped([4, 128, 4, 16]).permuted([0, 2, 1, 3])
            let a = Tensor.attention(heads, heads, heads).permuted([0, 2, 1, 3]).reshaped([4, 128, 64])
            let loss = (a + h).reshaped([-1, 64]).crossEntropy(targets: targets)
            try loss.backward()
            clipGradientNorm(opt.parameters, maxNorm: 1)
            opt.step(lr: 1e-2)
        }
        return (w1.scalars + w2.scalars + lnw.scalars).map(\.bitPattern)
    }

    func testOneAndTwoThreadsGiveIdenticalBits() throws {
        let one = try train(threads: 1)
        let two = try train(threads: 2)
        let four = try train(threads: 4)
        XCTAssertEqual(one, two)
        XCTAssertEqual(one, four)
    }
}

