import Foundation
@testable import TailorRuntime
import XCTest

final class RuntimeTests: XCTestCase {
    func testViewsShareStorage() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let t = x.transposed(0, 2)
        XCTAssertTrue(t.storage === x.storage)
        XCTAssertFalse(t.isContiguous)
        XCTAssertEqual(t.shape, [4, 3, 2])
        XCTAssertEqual(x.slice(axis: 2, 1..<3).scalars, [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        XCTAssertTrue(x.reshaped([6, 4]).storage === x.storage, "reshape of a contiguous tensor is a view")
        XCTAssertEqual(Tensor([1, 2], shape: [2, 1]).expanded(to: [2, 3]).scalars, [1, 1, 1, 2, 2, 2])
        // A slice of the last axis splits into heads without a copy; merging across the gap copies.
        let qkv = Tensor((0..<24).map(Float.init), shape: [2, 12])
        let q = qkv.slice(axis: 1, 4..<8).reshaped([2, 2, 2])
        XCTAssertTrue(q.storage === qkv.storage)
        XCTAssertEqual(q.scalars, [4, 5, 6, 7, 16, 17, 18, 19])
        let merged = qkv.slice(axis: 1, 4..<8).reshaped([8])
        XCTAssertFalse(merged.storage === qkv.storage)
        XCTAssertEqual(merged.scalars, [4, 5, 6, 7, 16, 17, 18, 19])
        XCTAssertEqual(x.transposed(0, 2).reshaped([4, 3, 2, 1]).scalars, x.transposed(0, 2).contiguous().scalars)
    }

    func testMatmulMatchesNaiveProductForEveryLayout() {
        let a = Tensor(Philox(seed: 1).normal(count: 35), shape: [5, 7])
        let b = Tensor(Philox(seed: 2).normal(count: 21), shape: [7, 3])
        func naive(_ a: [Float], _ b: [Float], _ m: Int, _ k: Int, _ n: Int) -> [Float] {
            (0..<(m * n)).map { idx in (0..<k).reduce(Float(0)) { $0 + a[(idx / n) * k + $1] * b[$1 * n + idx % n] } }
        }
        let expected = naive(a.scalars, b.scalars, 5, 7, 3)
        assertClose(a.matmul(b).scalars, expected)
        let aT = a.transposed().contiguous().transposed()  // a transposed view of (7, 5)
        let bT = b.transposed().contiguous().transposed()
        assertClose(aT.matmul(bT).scalars, expected)
        let batched = Tensor.concat([a.reshaped([1, 5, 7]), a.reshaped([1, 5, 7])], axis: 0)
        let bb = Tensor.concat([b.reshaped([1, 7, 3]), b.reshaped([1, 7, 3])], axis: 0)
        assertClose(batched.matmul(bb).scalars, expected + expected)
    }

    func testRotaryConventionsAgree() {
        // Position 0 is the identity; the two pairings are the same rotation up to a
        // permutation of dimensions (GGUF's interleaved Q/K versus Hugging Face's halves).
        let x = Tensor(Philox(seed: 9).normal(count: 16), shape: [1, 1, 2, 8])
        XCTAssertEqual(x.rotary(positions: [0, 0]).scalars, x.scalars)
        let toInterleaved = [0, 4, 1, 5, 2, 6, 3, 7]
        func permute(_ t: Tensor) -> [Float] { (0..<2).flatMap { r in toInterleaved.map { t.scalars[r * 8 + $0] } } }
        let halves = permute(x.rotary(positions: [3, 11]))
        let interleaved = Tensor(permute(x), shape: [1, 1, 2, 8]).rotary(positions: [3, 11], pairing: .interleaved).scalars
        for (a, b) in zip(halves, interleaved) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testFastTanhAgainstLibm() {
        var worst: Float = 0
        for i in -2000...2000 {
            let x = Float(i) / 20  // −100 … 100
            worst = Swift.max(worst, abs(FastMath.tanh(x) - Foundation.tanh(x)))
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.tanh(0), 0)
    }

    func testFastExpAgainstLibm() {
        var worst: Float = 0
        for i in 0...87_000 {
            let x = -Float(i) / 1000  // 0 … −87
            let e = Foundation.exp(x)
            worst = Swift.max(worst, abs(FastMath.expNonPositive(x) - e) / e)
        }
        XCTAssertLessThan(worst, 3e-7, "relative error")
        XCTAssertEqual(FastMath.expNonPositive(0), 1)
        XCTAssertEqual(FastMath.expNonPositive(-1e9), 0)
        XCTAssertEqual(FastMath.expNonPositive(-.infinity), 0)
        var worstSigmoid: Float = 0
        for i in -2000...2000 {
            let x = Float(i) / 20
            worstSigmoid = Swift.max(worstSigmoid, abs(FastMath.sigmoid(x) - 1 / (1 + Foundation.exp(-x))))
        }
        XCTAssertLessThan(worstSigmoid, 2e-7)
    }

    func testGroupedQueryAttentionEqualsRepeatedHeads() {
        // 6 query heads over 2 key/value heads = ordinary attention with each kv head repeated 3 times.
        let q = Tensor.randomNormal([1, 6, 4, 8], rng: Philox(seed: 1))
        let k = Tensor.randomNormal([1, 2, 4, 8], rng: Philox(seed: 2)), v = Tensor.randomNormal([1, 2, 4, 8], rng: Philox(seed: 3))
        func repeated(_ x: Tensor) -> Tensor { Tensor.concat((0..<6).map { x.slice(axis: 1, ($0 / 3)..<($0 / 3 + 1)) }, axis: 1) }
        let grouped = Tensor.attention(q, k, v).scalars
        let plain = Tensor.attention(q, repeated(k), repeated(v)).scalars
        for (a, b) in zip(grouped, plain) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testExactGELUValues() {
        // x·Φ(x) at −1, 0, 1, 3 (Φ from tables of the normal distribution).
        let y = Tensor([-1, 0, 1, 3], shape: [4]).geluExact().scalars
        for (a, b) in zip(y, [-0.158_655_25, 0, 0.841_344_75, 2.995_950_2] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testCachedAndPaddedAttentionMatchFullAttention() {
        let q = Tensor.randomNormal([1, 2, 5, 4], rng: Philox(seed: 4))
        let k = Tensor.randomNormal([1, 2, 5, 4], rng: Philox(seed: 5)), v = Tensor.randomNormal([1, 2, 5, 4], rng: Philox(seed: 6))
        let full = Tensor.attention(q, k, v)
        // Decoding: the last 2 queries against all 5 cached keys give the last 2 rows.
        let cached = Tensor.attention(q.slice(axis: 2, 3..<5), k, v)
        for (a, b) in zip(cached.scalars, full.slice(axis: 2, 3..<5).scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        // Left padding: with 2 pad positions masked, the rest equals attention over the 3 real ones.
        let padded = Tensor.attention(q, k, v, keyStart: [2]).slice(axis: 2, 2..<5)
        let real = Tensor.attention(q.slice(axis: 2, 2..<5), k.slice(axis: 2, 2..<5), v.slice(axis: 2, 2..<5))
        for (a, b) in zip(padded.scalars, real.scalars) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testTopK() {
        let (values, indices) = Tensor([3, 1, 4, 1, 5, 9, 2, 6], shape: [2, 4]).topK(2)
        XCTAssertEqual(indices, [2, 0, 1, 3])
        XCTAssertEqual(values.scalars, [4, 3, 9, 6])
    }

    func testPhiloxKnownAnswers() {
        // Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
        let zero = Philox.block(counter: (0, 0, 0, 0), key: (0, 0))
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
        let ones = Philox.block(counter: (.max, .max, .max, .max), key: (.max, .max))
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD])
        let pi = Philox.block(counter: (0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), key: (0xA409_3822, 0x299F_31D0))
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1])
    }

    func testRandomStreamsAreOrderFreeAndWellDistributed() {
        let rng = Philox(seed: 7, stream: 3)
        let all = rng.uniform(count: 1000)
        XCTAssertEqual(Array(all[500..<510]), rng.uniform(count: 10, start: 500), "element i depends only on i")
        XCTAssertNotEqual(all, Philox(seed: 7, stream: 4).uniform(count: 1000))
        let normals = Philox(seed: 11).normal(count: 100_000)
        let mean = normals.reduce(0, +) / Float(normals.count)
        let variance = normals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(normals.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
    }

    func testAdamWMatchesTheFormula() {
        let p = Tensor([1, -2], shape: [2], requiresGrad: true)
        var opt = AdamW([p], beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1)
        p.grad = Tensor([0.5, -0.25], shape: [2])
        opt.step(lr: 0.1)
        // Step 1: m̂ = g, v̂ = g², so the update is sign(g) (±1) plus decay 0.1·p.
        XCTAssertEqual(p.scalars[0], 1 - 0.1 * (1 + 0.1 * 1), accuracy: 1e-6)
        XCTAssertEqual(p.scalars[1], -2 - 0.1 * (-1 + 0.1 * -2), accuracy: 1e-6)
        var restored = AdamW([Tensor([0, 0], shape: [2])])
        XCTAssertNoThrow(try restored.load(state: opt.state()))
        XCTAssertEqual(restored.stepCount, 1)
        XCTAssertThrowsError(try restored.load(state: [:]))
    }

    /// A parameter's rate scale multiplies the rate of its update alone, vector lanes and tail
    /// alike (20 elements), in AdamW and SGD.
    func testRateScalesMultiplyEachParametersRate() {
        let (a, b) = (Tensor(zeros: [20], requiresGrad: true), Tensor(zeros: [3], requiresGrad: true))
        var adam = AdamW([a, b])
        adam.rateScales = [3, 0]
        a.grad = Tensor([Float](repeating: 2, count: 20), shape: [20])
        b.grad = Tensor([1, 1, 1], shape: [3])
        adam.step(lr: 0.1)
        for x in a.scalars { XCTAssertEqual(x, -0.3, accuracy: 1e-6, "step 1 moves by rate · sign(g), tripled") }
        XCTAssertEqual(b.scalars, [0, 0, 0])
        let c = Tensor([1], shape: [1], requiresGrad: true)
        var sgd = SGD([c], momentum: 0)
        sgd.rateScales = [2]
        c.grad = Tensor([0.5], shape: [1])
        sgd.step(lr: 0.1)
        XCTAssertEqual(c.scalars[0], 1 - 2 * 0.1 * 0.5, accuracy: 1e-7)
    }

    func testAdamWVectorAndTailAgreeWithTheScalarFormula() {
        // 37 elements: two 16-lane blocks and a scalar tail; two steps so m and v carry over.
        let initial = (0..<37).map { Float($0) / 10 - 1.5 }
        let grads = [(0..<37).map { sin(Float($0)) }, (0..<37).map { cos(Float($0)) / 2 }]
        let p = Tensor(initial, shape: [37], requiresGrad: true)
        var opt = AdamW([p], beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        var (w, m, v) = (initial, [Float](repeating: 0, count: 37), [Float](repeating: 0, count: 37))
        for (step, g) in grads.enumerated() {
            p.grad = Tensor(g, shape: [37])
            opt.step(lr: 0.01)
            let c1 = 1 - Float(pow(0.9, Double(step + 1))), c2 = 1 - Float(pow(0.95, Double(step + 1)))
            for j in 0..<37 {
                m[j] = 0.9 * m[j] + 0.1 * g[j]
                v[j] = 0.95 * v[j] + 0.05 * g[j] * g[j]
                w[j] -= 0.01 * ((m[j] / c1) / ((v[j] / c2).squareRoot() + 1e-8) + 0.1 * w[j])
            }
        }
        for j in 0..<37 { XCTAssertEqual(p.scalars[j], w[j], accuracy: 1e-6, "element \(j)") }
    }

    func testTrainingReducesLoss() throws {
        // A two-layer MLP learns XOR-like labels: the full loop (ops, backward, clip, AdamW).
        let rng = Philox(seed: 5)
        let w1 = Tensor.randomNormal([2, 16], std: 0.5, rng: rng).requiringGrad()
        let b1 = Tensor(zeros: [16], requiresGrad: true)
        let w2 = Tensor.randomNormal([16, 2], std: 0.5, rng: Philox(seed: 6)).requiringGrad()
        let x = Tensor([0, 0, 0, 1, 1, 0, 1, 1], shape: [4, 2])
        let y: [Int32] = [0, 1, 1, 0]
        var opt = AdamW([w1, b1, w2])
        var first: Float = 0, last: Float = 0
        for step in 0..<300 {
            opt.zeroGrad()
            let loss = (x.matmul(w1) + b1).tanh().matmul(w2).crossEntropy(targets: y)
            if step == 0 { first = loss.item }
            last = loss.item
            try loss.backward()
            clipGradientNorm(opt.parameters, maxNorm: 1)
            opt.step(lr: LearningRateSchedule(peak: 0.05, warmup: 10, total: 300).rate(at: step))
        }
        XCTAssertLessThan(last, first * 0.1)
    }

    func testSchedules() {
        let s = LearningRateSchedule(peak: 1, warmup: 10, total: 110, shape: .cosine)
        XCTAssertEqual(s.rate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 110), 0, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule(peak: 1, total: 100, shape: .linear).rate(at: 50), 0.5, accuracy: 1e-6)
    }

    func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, line: line)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, tol, "max difference \(worst); first values \(a.prefix(4)) vs \(b.prefix(4))", line: line)
    }
}
