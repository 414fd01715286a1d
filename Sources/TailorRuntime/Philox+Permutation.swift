extension Philox {
    /// A seeded Fisher–Yates permutation of 0..<n: data splits, mixtures, few-shot picks and
    /// each training epoch's order all shuffle this way, each from its own stream.
    public static func permutation(_ n: Int, seed: UInt64, stream: UInt64 = 0x73706c) -> [Int] {
        var order = Array(0..<n)
        guard n > 1 else { return order }
        let u = Philox(seed: seed, stream: stream).uniform(count: n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Swift.min(i, Int(u[i] * Float(i + 1)))
            order.swapAt(i, j)
        }
        return order
    }
}
