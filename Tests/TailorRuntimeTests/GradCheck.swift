import TailorRuntime
import XCTest

/// Central finite differences against reverse-mode gradients.
///
/// The runtime computes in Float32, so the check does too. With eps = 1e-2 the
/// truncation error of a central difference is O(eps²·f‴) ≈ 1e-4 relative for the
/// smooth ops tested, and the rounding error of the two loss evaluations is about
/// ulp(loss)/eps ≈ 1e-5 for losses of order 1–10. Tolerances of atol 3e-3 and
/// rtol 2e-2 sit an order of magnitude above both while still catching any wrong
/// formula (which is off by O(1)).
enum GradCheck {
    static func tensor(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> Tensor {
        let values = Philox(seed: seed).normal(count: Tensor.count(shape)).map { $0 * scale + offset }
        return Tensor(values, shape: shape, requiresGrad: true)
    }

    /// Checks d(sum(f(inputs) · R))/d(input) for every input element (up to `limit` per input).
    static func check(
        _ name: String, _ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 3e-3, rtol: Float = 2e-2, limit: Int = 64,
        file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor
    ) {
        let probe = Tensor.noGrad { f(inputs) }
        let weights = Tensor(Philox(seed: 99).normal(count: probe.count), shape: probe.shape)
        func loss() -> Float { Tensor.noGrad { (f(inputs) * weights).sum().item } }
        for t in inputs { t.grad = nil }
        do {
            try (f(inputs) * weights).sum().backward()
        } catch {
            XCTFail("\(name): backward threw \(error)", file: file, line: line)
            return
        }
        for (k, t) in inputs.enumerated() where t.requiresGrad {
            guard let g = t.grad?.scalars else {
                XCTFail("\(name): input \(k) got no gradient", file: file, line: line)
                continue
            }
            let stride = Swift.max(1, t.count / limit)
            var worst: Float = 0
            for i in Swift.stride(from: 0, to: t.count, by: stride) {
                let saved = t.pointer[i]
                t.pointer[i] = saved + eps
                let up = loss()
                t.pointer[i] = saved - eps
                let down = loss()
                t.pointer[i] = saved
                let numeric = (up - down) / (2 * eps)
                let diff = abs(numeric - g[i])
                worst = Swift.max(worst, diff)
                if diff > atol + rtol * Swift.max(abs(numeric), abs(g[i])) {
                    XCTFail("\(name): input \(k)[\(i)] analytic \(g[i]) vs numeric \(numeric)", file: file, line: line)
                    return
                }
            }
        }
    }
}
