import Foundation
import TailorRuntime
import XCTest

/// Forward values and gradients of composite blocks against the float64 NumPy
/// reference in Fixtures/make_fixtures.py (its output is Fixtures/fixtures.json).
final class FixtureTests: XCTestCase {
    nonisolated(unsafe) static let fixtures: [String: [String: Any]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fixtures.json")
        let data = (try? Data(contentsOf: url)) ?? Data()
        return ((try? JSONSerialization.jsonObject(with: data)) as? [String: [String: Any]]) ?? [:]
    }()

    func tensor(_ c: [String: Any], _ key: String, grad: Bool = false) -> Tensor {
        let o = c[key] as! [String: Any]
        let values = (o["values"] as! [Double]).map(Float.init)
        return Tensor(values, shape: o["shape"] as! [Int], requiresGrad: grad)
    }

    func values(_ c: [String: Any], _ key: String) -> [Float] { ((c[key] as! [String: Any])["values"] as! [Double]).map(Float.init) }

    /// Normwise relative error max|a − b| / max|b| ≤ 1e-5, printing the first values and the difference.
    func assertMatches(_ actual: Tensor?, _ expected: [Float], _ what: String, line: UInt = #line) {
        guard let a = actual?.scalars else { return XCTFail("\(what): missing", line: line) }
        XCTAssertEqual(a.count, expected.count, what, line: line)
        let diff = zip(a, expected).map { abs($0 - $1) }.max() ?? 0
        let scale = expected.map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(diff / Swift.max(scale, 1e-12), 1e-5,
            "\(what): max diff \(diff) (scale \(scale)); got \(a.prefix(4)), expected \(expected.prefix(4))", line: line)
    }

    func testFixturesArePresent() { XCTAssertEqual(Set(Self.fixtures.keys), ["layer_norm", "cross_entropy", "mlp", "attention"]) }

    func testLayerNorm() throws {
        let c = try XCTUnwrap(Self.fixtures["layer_norm"])
        let x = tensor(c, "x", grad: true), w = tensor(c, "w", grad: true), b = tensor(c, "b", grad: true)
        let y = x.layerNorm(weight: w, bias: b)
        assertMatches(y, values(c, "y"), "y")
        try (y * tensor(c, "r")).sum().backward()
        assertMatches(x.grad, values(c, "dx"), "dx")
        assertMatches(w.grad, values(c, "dw"), "dw")
        assertMatches(b.grad, values(c, "db"), "db")
    }

    func testCrossEntropy() throws {
        let c = try XCTUnwrap(Self.fixtures["cross_entropy"])
        let logits = tensor(c, "logits", grad: true)
        let loss = logits.crossEntropy(
            targets: (c["targets"] as! [Int]).map(Int32.init), weights: (c["weights"] as! [Double]).map(Float.init))
        XCTAssertEqual(loss.item, Float(c["loss"] as! Double), accuracy: 1e-5 * abs(Float(c["loss"] as! Double)))
        try loss.backward()
        assertMatches(logits.grad, values(c, "dlogits"), "dlogits")
    }

    func testMLP() throws {
        let c = try XCTUnwrap(Self.fixtures["mlp"])
        let x = tensor(c, "x", grad: true)
        let w1 = tensor(c, "w1", grad: true), b1 = tensor(c, "b1", grad: true)
        let w2 = tensor(c, "w2", grad: true), b2 = tensor(c, "b2", grad: true)
        let y = (x.matmul(w1) + b1).gelu().matmul(w2) + b2  // (B, T, C)
        assertMatches(y, values(c, "y"), "y")
        try (y * tensor(c, "r")).sum().backward()
        for (t, k) in [(x, "dx"), (w1, "dw1"), (b1, "db1"), (w2, "dw2"), (b2, "db2")] { assertMatches(t.grad, values(c, k), k) }
    }

    func testCausalAttention() throws {
        let c = try XCTUnwrap(Self.fixtures["attention"])
        let q = tensor(c, "q", grad: true), k = tensor(c, "k", grad: true), v = tensor(c, "v", grad: true)  // (B, H, T, D)
        let t = q.shape[2], d = q.shape[3]
        let mask = Tensor((0..<(t * t)).map { $0 % t <= $0 / t ? 1 : 0 }, shape: [t, t])
        let scores = q.matmul(k.transposed()) * (1 / Float(d).squareRoot())  // (B, H, T, T)
        let o = Tensor.where(mask, scores, Tensor(scalar: -1e9)).softmax().matmul(v)
        assertMatches(o, values(c, "o"), "o")
        try (o * tensor(c, "r")).sum().backward()
        assertMatches(q.grad, values(c, "dq"), "dq")
        assertMatches(k.grad, values(c, "dk"), "dk")
        assertMatches(v.grad, values(c, "dv"), "dv")
    }

    /// The fused kernel against the same reference, reading heads permuted out of (B, T, H, D).
    func testFusedAttention() throws {
        let c = try XCTUnwrap(Self.fixtures["attention"])
        let q = tensor(c, "q", grad: true), k = tensor(c, "k", grad: true), v = tensor(c, "v", grad: true)
        func viaTokensMajor(_ x: Tensor) -> Tensor { x.permuted([0, 2, 1, 3]).contiguous().permuted([0, 2, 1, 3]) }
        let o = Tensor.attention(viaTokensMajor(q), viaTokensMajor(k), viaTokensMajor(v))
        assertMatches(o, values(c, "o"), "o")
        try (o * tensor(c, "r")).sum().backward()
        assertMatches(q.grad, values(c, "dq"), "dq")
        assertMatches(k.grad, values(c, "dk"), "dk")
        assertMatches(v.grad, values(c, "dv"), "dv")
    }
}
