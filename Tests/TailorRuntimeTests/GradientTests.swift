import Foundation
import TailorRuntime
import XCTest

/// Every op's gradient against finite differences, on random shapes, broadcasts and
/// non-contiguous views.
final class GradientTests: XCTestCase {
    let t = GradCheck.tensor

    func testBroadcastArithmetic() {
        let a = t([3, 4], 1, 1, 0), b = t([4], 2, 1, 0), c = t([3, 1], 3, 1, 0)
        GradCheck.check("add", [a, b]) { $0[0] + $0[1] }
        GradCheck.check("sub", [a, c]) { $0[0] - $0[1] }
        GradCheck.check("mul", [a, b, c]) { $0[0] * $0[1] * $0[2] }
        let positive = t([4], 4, 0.2, 2)
        GradCheck.check("div", [a, positive]) { $0[0] / $0[1] }
        GradCheck.check("neg-scalar", [a]) { -($0[0] * 3 + 1) }
    }

    func testUnaryFunctions() {
        let x = t([5, 3], 5, 1, 0)
        let positive = t([5, 3], 6, 0.3, 2)
        GradCheck.check("exp", [x]) { $0[0].exp() }
        GradCheck.check("log", [positive]) { $0[0].log() }
        GradCheck.check("sqrt", [positive]) { $0[0].sqrt() }
        GradCheck.check("rsqrt", [positive]) { $0[0].rsqrt() }
        GradCheck.check("tanh", [x]) { $0[0].tanh() }
        GradCheck.check("sigmoid", [x]) { $0[0].sigmoid() }
        GradCheck.check("log_sigmoid", [x]) { $0[0].logSigmoid() }
        // Far from zero it neither overflows nor loses the value: log σ(−100) = −100, log σ(100) ≈ 0.
        let far = Tensor([-100, 0, 100], shape: [3]).logSigmoid().scalars
        XCTAssertEqual(far[0], -100, accuracy: 1e-4)
        XCTAssertEqual(far[1], -Float(Foundation.log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(far[2], 0, accuracy: 1e-6)
        GradCheck.check("gelu", [x]) { $0[0].gelu() }
        GradCheck.check("gelu_exact", [x]) { $0[0].geluExact() }
        GradCheck.check("silu", [x]) { $0[0].silu() }
        GradCheck.check("square", [x]) { $0[0].square() }
        GradCheck.check("relu", [positive]) { ($0[0] - 2).relu() }
    }

    func testReductions() {
        let x = t([2, 3, 4], 7, 1, 0)
        GradCheck.check("sum-all", [x]) { $0[0].sum() }
        GradCheck.check("sum-axis", [x]) { $0[0].sum(axes: [1]) }
        GradCheck.check("sum-axes-keep", [x]) { $0[0].sum(axes: [0, 2], keepDims: true) }
        GradCheck.check("mean", [x]) { $0[0].mean(axes: [-1]) }
        GradCheck.check("max", [x]) { $0[0].max(axis: 1) }
    }

    func testViews() {
        let x = t([2, 3, 4], 8, 1, 0)
        GradCheck.check("reshape", [x]) { $0[0].reshaped([6, 4]) * 2 }
        GradCheck.check("permute", [x]) { $0[0].permuted([2, 0, 1]).contiguous() }
        GradCheck.check("transpose-reshape", [x]) { $0[0].transposed(0, 2).reshaped([4, 6]) }
        GradCheck.check("slice", [x]) { $0[0].slice(axis: 2, 1..<3) }
        GradCheck.check("expand", [t([3, 1], 9, 1, 0)]) { $0[0].expanded(to: [2, 3, 5]) }
        GradCheck.check("concat-split", [x, t([2, 2, 4], 10, 1, 0)]) {
            let joined = Tensor.concat([$0[0], $0[1]], axis: 1)
            let parts = joined.split(sizes: [1, 4], axis: 1)
            return parts[1] * parts[1]
        }
        let mask = Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
        GradCheck.check("where", [t([2, 3], 11, 1, 0), t([3], 12, 1, 0)]) { Tensor.where(mask, $0[0], $0[1]) }
    }

    func testMatmulLayouts() {
        let a = t([4, 5], 13, 1, 0), b = t([5, 3], 14, 1, 0)
        GradCheck.check("matmul", [a, b]) { $0[0].matmul($0[1]) }
        let at = t([5, 4], 15, 1, 0), bt = t([3, 5], 16, 1, 0)
        GradCheck.check("matmul-transposed-views", [at, bt]) { $0[0].transposed().matmul($0[1].transposed()) }
        let x = t([2, 3, 5], 17, 1, 0)
        GradCheck.check("matmul-folded", [x, b]) { $0[0].matmul($0[1]) }
        let q = t([2, 3, 4, 5], 18, 1, 0), k = t([2, 3, 4, 5], 19, 1, 0)
        GradCheck.check("matmul-batched-transposed", [q, k]) { $0[0].matmul($0[1].transposed()) }
        let bias = t([3], 27, 1, 0)
        GradCheck.check("linear", [x, b, bias]) { $0[0].linear($0[1], $0[2]) }
        let sliced = t([4, 8], 20, 1, 0)
        GradCheck.check("matmul-strided-slice", [sliced, b]) { $0[0].slice(axis: 1, 2..<7).matmul($0[1]) }
    }

    func testSoftmaxAndNorms() {
        let x = t([3, 6], 21, 1.5, 0)
        GradCheck.check("softmax", [x]) { $0[0].softmax() }
        GradCheck.check("log_softmax", [x]) { $0[0].logSoftmax() }
        let w = t([6], 22, 0.5, 1), b = t([6], 23, 0.5, 0)
        GradCheck.check("layer_norm", [x, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        GradCheck.check("rms_norm", [x, w]) { $0[0].rmsNorm(weight: $0[1]) }
        GradCheck.check("layer_norm-view", [t([6, 3], 24, 1, 0), w, b]) { $0[0].transposed().layerNorm(weight: $0[1], bias: $0[2]) }
        // 37 columns: two 16-lane blocks of the vector row sums and a scalar tail.
        let wide = t([3, 37], 25, 1.5, 0), w37 = t([37], 26, 0.5, 1), b37 = t([37], 28, 0.5, 0)
        GradCheck.check("layer_norm-wide", [wide, w37, b37]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        GradCheck.check("rms_norm-wide", [wide, w37]) { $0[0].rmsNorm(weight: $0[1]) }
    }

    func testLinearWithALowRankUpdate() {
        let x = t([2, 3, 5], 60, 1, 0), w = t([5, 4], 61, 1, 0), bias = t([4], 62, 1, 0)
        let u = t([2, 3, 2], 63, 1, 0), b = t([2, 4], 64, 1, 0)
        GradCheck.check("linear_low_rank", [x, w, bias, u, b]) { $0[0].linear($0[1], bias: $0[2], adding: $0[3], $0[4]) }
        GradCheck.check("linear_low_rank-no-bias", [x, w, u, b]) { $0[0].linear($0[1], bias: nil, adding: $0[2], $0[3]) }
        // The same values as the unfused sum.
        let fused = Tensor.noGrad { x.linear(w, bias: bias, adding: u, b) }.scalars
        let plain = Tensor.noGrad { x.linear(w, bias) + u.matmul(b) }.scalars
        for (f, p) in zip(fused, plain) { XCTAssertEqual(f, p, accuracy: 1e-5) }
    }

    func testFusedAttention() {
        let q = t([2, 2, 5, 3], 40, 1, 0), k = t([2, 2, 5, 3], 41, 1, 0), v = t([2, 2, 5, 3], 42, 1, 0)
        GradCheck.check("attention-causal", [q, k, v]) { Tensor.attention($0[0], $0[1], $0[2]) }
        GradCheck.check("attention-full", [q, k, v]) { Tensor.attention($0[0], $0[1], $0[2], causal: false) }
        let q6 = t([2, 6, 5, 3], 43, 1, 0), k2 = t([2, 2, 5, 3], 44, 1, 0), v2 = t([2, 2, 5, 3], 45, 1, 0)
        GradCheck.check("attention-grouped", [q6, k2, v2]) { Tensor.attention($0[0], $0[1], $0[2]) }
        // Queries that are the last 2 of 5 positions (keys from a cache), and left padding.
        let q2 = t([2, 2, 2, 3], 46, 1, 0)
        GradCheck.check("attention-cached", [q2, k, v]) { Tensor.attention($0[0], $0[1], $0[2]) }
        GradCheck.check("attention-padded", [q, k, v]) { Tensor.attention($0[0], $0[1], $0[2], keyStart: [2, 0]) }
        GradCheck.check("attention-right-padded", [q, k, v]) { Tensor.attention($0[0], $0[1], $0[2], causal: false, keyEnd: [5, 3]) }
        // Two packed examples per row (positions 0–1 and 2–4, then 0–2 and 3–4).
        GradCheck.check("attention-packed", [q, k, v]) {
            Tensor.attention($0[0], $0[1], $0[2], segmentStart: [0, 0, 2, 2, 2, 0, 0, 0, 3, 3])
        }
    }

    func testRotaryAndGather() {
        let x = t([2, 2, 4, 6], 50, 1, 0)
        GradCheck.check("rotary-halves", [x]) { $0[0].rotary(positions: [0, 1, 2, 7], base: 100) }
        GradCheck.check("rotary-interleaved", [x]) { $0[0].rotary(positions: [3, 4, 5, 6], base: 100, pairing: .interleaved) }
        GradCheck.check("rotary-per-row", [x]) { $0[0].rotary(positions: [0, 1, 0, 1, 2, 0, 1, 2], base: 100) }
        let y = t([3, 5], 51, 1, 0)
        GradCheck.check("gather", [y]) { $0[0].gather([0, 4, 4, 1, 2, 3], k: 2) }
        GradCheck.check("topk", [y]) { $0[0].topK(2).values }
    }

    func testEmbeddingAndCrossEntropy() {
        let table = t([7, 4], 25, 1, 0)
        GradCheck.check("embedding", [table]) { $0[0].embedding([1, 3, 3, 6, 0, 1], shape: [2, 3]) }
        let logits = t([5, 7], 26, 2, 0)
        GradCheck.check("cross_entropy", [logits]) { $0[0].crossEntropy(targets: [0, 6, -100, 3, 3]) }
        GradCheck.check("cross_entropy-weighted", [logits]) {
            $0[0].crossEntropy(targets: [0, 6, 2, 3, -100], weights: [1, 0.5, 2, 0, 1])
        }
        GradCheck.check("target_log_probs", [logits]) { $0[0].targetLogProbs(targets: [0, 6, -100, 3, 3]) }
        // The mean of the target log-probabilities is minus the cross-entropy.
        let picked = logits.targetLogProbs(targets: [0, 6, -100, 3, 3]).scalars
        XCTAssertEqual(picked[2], 0)
        XCTAssertEqual(-picked.reduce(0, +) / 4, logits.crossEntropy(targets: [0, 6, -100, 3, 3]).item, accuracy: 1e-5)
    }

    func testFrozenWeightsGetNoGradient() throws {
        let x = GradCheck.tensor([4, 3], seed: 30)
        let frozen = Tensor(Philox(seed: 31).normal(count: 6), shape: [3, 2])
        try x.matmul(frozen).sum().backward()
        XCTAssertNil(frozen.grad)
        XCTAssertNotNil(x.grad)
        let y = Tensor.noGrad { x.matmul(frozen) }
        XCTAssertFalse(y.requiresGrad)
    }

    /// Gradient buffers shared between inputs (add hands the same gradient to both) must never
    /// be updated in place: here `s` gets a summed buffer from two consumers, add passes it to
    /// both `a` and `y`, and `a` then gets a further gradient from `r`. Both orders of the
    /// consumers are tried, since the engine's traversal order decides which one runs first.
    func testSharedGradientBuffersAreNotModifiedInPlace() {
        let x = t([3, 4], 60, 0.5, 0), y = t([3, 4], 61, 0.5, 0)
        GradCheck.check("fan-out", [x, y]) { i in
            let a = i[0] * 1.5
            let s = a + i[1]
            return (s * 2 + s.exp()) + a.exp()
        }
        GradCheck.check("fan-out-reversed", [x, y]) { i in
            let a = i[0] * 1.5
            let s = a + i[1]
            return a.exp() + (s.exp() + s * 2)
        }
    }

    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = Tensor([1, 2, 3], shape: [3], requiresGrad: true)
        try (x * x).sum().backward()
        try (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4, 8, 12])
    }

    func testNonFiniteLossIsReported() {
        let x = Tensor([-1], shape: [1], requiresGrad: true)
        XCTAssertThrowsError(try x.log().sum().backward()) { XCTAssertEqual($0 as? NumericError, .nonFiniteLoss) }
    }

    func testNonFiniteGradientNamesTheOp() {
        let x = Tensor([0, 1], shape: [2], requiresGrad: true)
        XCTAssertThrowsError(try x.sqrt().sum().backward()) { error in
            XCTAssertEqual(error as? NumericError, .nonFiniteGradient(op: "sqrt"))
        }
    }
}
