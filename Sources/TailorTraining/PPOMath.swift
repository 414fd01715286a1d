import Foundation
import TailorRuntime

/// The arithmetic of PPO for language models (Ziegler et al. 2019, as TRL's `PPOTrainer`
/// computes it), on plain numbers and tensors so it can be checked against a reference on a
/// fixed rollout. Each response is a sequence of generated tokens; per-token arrays run over
/// them in order.
public enum PPOMath {
    /// Per-token rewards of one response: −coefficient·(log π − log π_ref) at every token (the
    /// KL penalty, estimated by k1), and the reward model's `score` added at the last token.
    public static func tokenRewards(score: Float, logps: [Float], referenceLogps: [Float], klCoefficient: Float) -> [Float] {
        var r = zip(logps, referenceLogps).map { -klCoefficient * ($0 - $1) }
        if !r.isEmpty { r[r.count - 1] += score }
        return r
    }

    /// Generalised advantage estimation over one response: δ_t = r_t + γ·V_{t+1} − V_t (no
    /// value after the last token), A_t = δ_t + γλ·A_{t+1}; returns are A + V.
    public static func advantages(rewards: [Float], values: [Float], gamma: Float, lambda: Float) -> (advantages: [Float], returns: [Float]) {
        precondition(rewards.count == values.count)
        var a = [Float](repeating: 0, count: rewards.count)
        var next: Float = 0, nextValue: Float = 0
        for t in stride(from: rewards.count - 1, through: 0, by: -1) {
            let delta = rewards[t] + gamma * nextValue - values[t]
            next = delta + gamma * lambda * next
            a[t] = next
            nextValue = values[t]
        }
        return (a, zip(a, values).map { $0 + $1 })
    }

    /// Mean 0 and unit variance over every token of the batch (variance with Bessel's
    /// correction, + 1e-8), as TRL's `masked_whiten`.
    public static func whiten(_ x: [Float]) -> [Float] {
        guard x.count > 1 else { return x.map { _ in 0 } }
        let n = Double(x.count)
        let mean = x.reduce(0.0) { $0 + Double($1) } / n
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / (n - 1)
        let scale = 1 / (variance + 1e-8).squareRoot()
        return x.map { Float((Double($0) - mean) * scale) }
    }

    /// The clipped surrogate: mean over tokens of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)) with
    /// ρ = exp(log π − log π_old); and the fraction of tokens where the clipped term is the
    /// larger (TRL's `policy/clipfrac`). `logps`: (K), with gradients.
    public static func policyLoss(logps: Tensor, old: [Float], advantages: [Float], clip: Float) -> (loss: Tensor, clipFraction: Double) {
        let k = old.count
        let ratio = (logps - Tensor(old, shape: [k])).exp()  // (K)
        let r = ratio.scalars
        let a = Tensor(advantages, shape: [k])
        let unclipped = -(a * ratio)
        // Clipped, ρ is a constant outside [1 − ε, 1 + ε]: no gradient flows there.
        let inside = r.map { $0 >= 1 - clip && $0 <= 1 + clip ? Float(1) : 0 }
        let bounded = r.map { Swift.min(Swift.max($0, 1 - clip), 1 + clip) }
        let clippedRatio = Tensor.where(Tensor(inside, shape: [k]), ratio, Tensor(bounded, shape: [k]))
        let clipped = -(a * clippedRatio)
        let u = unclipped.scalars, c = clipped.scalars
        let takeClipped = (0..<k).map { c[$0] > u[$0] ? Float(1) : 0 }
        let loss = Tensor.where(Tensor(takeClipped, shape: [k]), clipped, unclipped).mean()
        return (loss, Double(takeClipped.reduce(0, +)) / Double(Swift.max(1, k)))
    }

    /// The clipped value loss: ½·mean over tokens of max((V − R)², (clip(V, V_old ± ε) − R)²),
    /// and the fraction of tokens where the clipped term is the larger. `values`: (K).
    public static func valueLoss(values: Tensor, old: [Float], returns: [Float], clip: Float) -> (loss: Tensor, clipFraction: Double) {
        let k = old.count
        let v = values.scalars
        let inside = (0..<k).map { abs(v[$0] - old[$0]) <= clip ? Float(1) : 0 }
        let bounded = (0..<k).map { Swift.min(Swift.max(v[$0], old[$0] - clip), old[$0] + clip) }
        let target = Tensor(returns, shape: [k])
        let unclipped = (values - target).square()
        let clipped = (Tensor.where(Tensor(inside, shape: [k]), values, Tensor(bounded, shape: [k])) - target).square()
        let u = unclipped.scalars, c = clipped.scalars
        let takeClipped = (0..<k).map { c[$0] > u[$0] ? Float(1) : 0 }
        let loss = Tensor.where(Tensor(takeClipped, shape: [k]), clipped, unclipped).mean() * 0.5
        return (loss, Double(takeClipped.reduce(0, +)) / Double(Swift.max(1, k)))
    }

    /// KL(π ‖ π_ref) of one response from its sampled tokens, by Schulman's k3 estimator,
    /// Σ_t (exp(d_t) − 1 − d_t) with d_t = log π_ref − log π: unbiased, and never negative, unlike
    /// the k1 sum Σ_t −d_t that the penalty uses (whose sample mean can go below zero: trl#235).
    public static func klK3(logps: [Float], referenceLogps: [Float]) -> Double {
        zip(logps, referenceLogps).reduce(0.0) { total, pair in
            let d = Double(pair.1) - Double(pair.0)
            return total + (Foundation.exp(d) - 1 - d)
        }
    }

    public static func klK1(logps: [Float], referenceLogps: [Float]) -> Double {
        zip(logps, referenceLogps).reduce(0.0) { $0 + Double($1.0) - Double($1.1) }
    }

    /// Ziegler et al.'s adaptive KL controller: after each batch of `batch` rollouts whose mean
    /// KL was `kl`, the coefficient is multiplied by 1 + clip(kl/target − 1, −0.2, 0.2)·batch/horizon.
    public struct AdaptiveKL: Sendable, Equatable {
        public var coefficient: Double
        public let target: Double, horizon: Double
        public init(coefficient: Double, target: Double, horizon: Double) {
            (self.coefficient, self.target, self.horizon) = (coefficient, target, horizon)
        }

        public mutating func update(kl: Double, batch: Int) {
            let error = Swift.min(Swift.max(kl / target - 1, -0.2), 0.2)
            coefficient *= 1 + error * Double(batch) / horizon
        }
    }
}
