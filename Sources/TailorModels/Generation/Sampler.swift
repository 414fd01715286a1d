import Foundation
import TailorRuntime

/// How the next token is chosen. Temperature 0 is greedy (the first highest logit);
/// otherwise logits are divided by the temperature, cut to the `topK` highest (0 = all)
/// and to the smallest set whose probability reaches `topP`, and one token is drawn with a
/// counter-based generator keyed by (seed, sequence, step): the same seed gives the same
/// text whatever the batch or thread count.
public struct SamplingOptions: Sendable, Equatable {
    public var maxTokens: Int
    public var temperature: Float
    public var topK: Int
    public var topP: Float
    public var seed: UInt64
    /// Generation stops before the first of these strings (which is not returned).
    public var stop: [String]
    /// Keep generating past end-of-text tokens (benchmarks with a fixed step count).
    public var ignoreEndOfText: Bool

    public init(maxTokens: Int = 128, temperature: Float = 0, topK: Int = 0, topP: Float = 1, seed: UInt64 = 0, stop: [String] = [],
                ignoreEndOfText: Bool = false) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.stop = stop
        self.ignoreEndOfText = ignoreEndOfText
    }
}

enum Sampler {
    /// Picks a token from one row of `n` logits.
    static func pick(_ logits: UnsafePointer<Float>, _ n: Int, _ options: SamplingOptions, sequence: Int, step: Int) -> Int32 {
        if options.temperature <= 0 {
            var best = 0
            for i in 1..<n where logits[i] > logits[best] { best = i }
            return Int32(best)
        }
        let draw = { Double(Philox(seed: options.seed, stream: UInt64(sequence)).uniform(count: 1, start: UInt64(step))[0]) }
        if options.topK == 0 && options.topP >= 1 {
            // Nothing is cut, so no order is needed: a draw over every token in id order. The
            // sort below costs more than the model's step on a 49K vocabulary.
            var top = -Float.infinity
            for i in 0..<n { top = Swift.max(top, logits[i]) }
            var weights = [Double](repeating: 0, count: n), total = 0.0
            for i in 0..<n {
                weights[i] = Foundation.exp(Double((logits[i] - top) / options.temperature))
                total += weights[i]
            }
            let u = draw() * total
            var cumulative = 0.0, last = 0
            for i in 0..<n where weights[i] > 0 {
                cumulative += weights[i]
                if u < cumulative { return Int32(i) }
                last = i
            }
            return Int32(last)
        }
        var candidates = (0..<n).map { (id: Int32($0), logit: logits[$0] / options.temperature) }
        // Highest first; ties by id, so the order (and the draw) is deterministic.
        candidates.sort { $0.logit != $1.logit ? $0.logit > $1.logit : $0.id < $1.id }
        if options.topK > 0, options.topK < candidates.count { candidates.removeLast(candidates.count - options.topK) }
        let top = candidates[0].logit
        var weights = candidates.map { Foundation.exp(Double($0.logit - top)) }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        var keep = weights.count
        if options.topP < 1 {
            var cumulative = 0.0
            for (i, w) in weights.enumerated() {
                cumulative += w
                if cumulative >= Double(options.topP) {
                    keep = i + 1
                    break
                }
            }
        }
        let mass = weights[0..<keep].reduce(0, +)
        let u = draw() * mass
        var cumulative = 0.0
        for i in 0..<keep {
            cumulative += weights[i]
            if u < cumulative { return candidates[i].id }
        }
        return candidates[keep - 1].id
    }
}
