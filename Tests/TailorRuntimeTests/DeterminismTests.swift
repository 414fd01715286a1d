import Dispatch
import Foundation
@testable import TailorRuntime
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
            let h = x.layerNorm(weight: lnw, bias: lnb).matmul(w1).gelu().matmul(w2).rmsNorm(weight: lnw)  // (B, T, C)
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


/// The worker pool under load: many short regions back to back, nested calls and calls
/// from several threads at once all finish with every chunk run exactly once.
final class WorkerPoolTests: XCTestCase {
    func testEveryChunkRunsOnceUnderContention() {
        Runtime.setThreads(2)
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 64 * 1000)
        counts.initialize(repeating: 0, count: 64 * 1000)
        defer { counts.deallocate() }
        let box = UnsafeSendableCounts(counts)
        for round in 0..<1000 {
            Parallel.forEachChunk(64, grain: 1) { chunk, _ in
                box.pointer[round * 64 + chunk] += 1
                // A nested region runs inline instead of deadlocking.
                Parallel.forEach(4, grain: 1) { _ in }
            }
        }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<50 { Parallel.forEach(256, grain: 4) { _ in } }
        }
        XCTAssertTrue((0..<(64 * 1000)).allSatisfy { counts[$0] == 1 })
    }

    /// A region's closure, and every tensor it captures, is released when the region ends:
    /// workers once kept some alive, and training leaked a step's activations per step.
    func testRegionsReleaseWhatTheyCapture() {
        Runtime.setThreads(2)
        let before = TensorMemory.liveBytes
        for _ in 0..<500 {
            let t = Tensor(zeros: [100_000])
            Parallel.forEach(2, grain: 1) { r in t.storage.pointer[r.lowerBound] += 1 }
        }
        usleep(10_000)  // a worker may still be leaving the last region
        XCTAssertLessThanOrEqual(TensorMemory.liveBytes - before, 400_000, "at most the last region's tensor is still held")
    }

    /// Tensor memory is flat across training steps (weights, moments and gradients stay;
    /// each step's activations go), with one thread or several.
    func testTrainingStepsDoNotAccumulateMemory() throws {
        for threads in [1, 2] {
            Runtime.setThreads(threads)
            let w = Tensor.randomNormal([64, 256], std: 0.1, rng: Philox(seed: 1)).requiringGrad()
            var opt = AdamW([w])
            let x = Tensor.randomNormal([4, 128, 64], rng: Philox(seed: 3))  // (B, T, C)
            var live: [Int] = []
            for _ in 0..<4 {
                opt.zeroGrad()
                let h = x.matmul(w).gelu().reshaped([4, 128, 4, 64]).permuted([0, 2, 1, 3])  // (B, H, T, D)
                try Tensor.attention(h, h, h).sum().backward()
                opt.step(lr: 1e-2)
                live.append(TensorMemory.liveBytes)
            }
            XCTAssertEqual(Set(live.dropFirst()).count, 1, "threads \(threads): live bytes per step \(live)")
        }
        Runtime.setThreads(ProcessInfo.processInfo.activeProcessorCount)
    }
}

struct UnsafeSendableCounts: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ p: UnsafeMutablePointer<Int32>) { pointer = p }
}
