import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11):
/// a counter-based generator. The numbers for element i depend only on (seed, stream, i),
/// so results never depend on call order or thread count.
public struct Philox: Sendable {
    public let seed: UInt64
    public let stream: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// The 4 × 32-bit block for a 128-bit counter under a 64-bit key.
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = counter
        var k = key
        for round in 0..<10 {
            if round > 0 {
                k.0 &+= 0x9E37_79B9
                k.1 &+= 0xBB67_AE85
            }
            let p0 = UInt64(0xD251_1F53) * UInt64(c.0)
            let p1 = UInt64(0xCD9E_8D57) * UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
                 UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// Block `index` of this generator's sequence.
    public func block(_ index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        Philox.block(
            counter: (UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
                      UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
            key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// A 32-bit integer to a float in [0, 1) with 24 random bits.
    @inline(__always)
    static func unit(_ x: UInt32) -> Float { Float(x >> 8) * (1.0 / 16_777_216.0) }

    /// Element i of the uniform [0, 1) sequence is lane i % 4 of block i / 4.
    public func uniform(count: Int, start: UInt64 = 0) -> [Float] {
        (0..<count).map { i in
            let n = start + UInt64(i)
            let b = block(n / 4)
            switch n % 4 {
            case 0: return Philox.unit(b.0)
            case 1: return Philox.unit(b.1)
            case 2: return Philox.unit(b.2)
            default: return Philox.unit(b.3)
            }
        }
    }

    /// Standard normal samples by Box–Muller: lanes (0, 1) and (2, 3) of each block give two each.
    public func normal(count: Int, start: UInt64 = 0) -> [Float] {
        (0..<count).map { i in
            let n = start + UInt64(i)
            let b = block(n / 4)
            let lane = n % 4
            let (a, c) = lane < 2 ? (b.0, b.1) : (b.2, b.3)
            let u1 = (Float(a >> 8) + 1) * (1.0 / 16_777_217.0)  // (0, 1]: log is finite
            let u2 = Philox.unit(c)
            let r = (-2 * _log(u1)).squareRoot()
            let theta = 2 * Float.pi * u2
            return lane % 2 == 0 ? r * _cos(theta) : r * _sin(theta)
        }
    }
}

@inline(__always) private func _log(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }
@inline(__always) private func _cos(_ x: Float) -> Float { Float(Foundation.cos(Double(x))) }
@inline(__always) private func _sin(_ x: Float) -> Float { Float(Foundation.sin(Double(x))) }

extension Tensor {
    /// Normal(0, std²) values from `rng`, e.g. for weight initialisation.
    public static func randomNormal(_ shape: [Int], std: Float = 1, rng: Philox) -> Tensor {
        Tensor(rng.normal(count: Tensor.count(shape)).map { $0 * std }, shape: shape)
    }

    /// Uniform [0, 1) values from `rng`.
    public static func randomUniform(_ shape: [Int], rng: Philox) -> Tensor {
        Tensor(rng.uniform(count: Tensor.count(shape)), shape: shape)
    }

    /// Inverted dropout: zeroes each element with probability `p` (seeded, order-free)
    /// and scales the rest by 1/(1−p).
    public func dropout(_ p: Float, rng: Philox) -> Tensor {
        precondition(p >= 0 && p < 1, "dropout probability \(p) outside [0, 1)")
        if p == 0 { return self }
        let keep = rng.uniform(count: count).map { $0 >= p ? 1 / (1 - p) : 0 }
        return self * Tensor(keep, shape: shape)
    }
}

extension Philox {
    /// A stable 64-bit hash of a name (FNV-1a over its UTF-8), for deriving seeds and streams from
    /// names: the same in every process, unlike Swift's randomly seeded `Hasher`.
    public static func stream(named name: String) -> UInt64 {
        name.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
