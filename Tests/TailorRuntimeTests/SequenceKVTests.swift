import Foundation
@testable import TailorRuntime
import XCTest

/// A sequence's cached attention against softmax(q·kᵀ/√D)·v in Float64 over the keys and values
/// rounded to Float16 (what the cache keeps; the Float32 ones differ by far more than the bound), with a head width of 80
/// so that the 16-lane sums, the 64-column value blocks and both scalar tails all run, and with
/// enough positions for keys taken four at a time and the ones left over.
final class SequenceKVTests: XCTestCase {
    func testAttentionIsTheSoftmaxOfScaledScoresOverCachedValues() {
        let (d, heads, kvHeads, positions) = (80, 4, 2, 7)
        let cache = SequenceKV(layers: 2, kvHeads: kvHeads, headDim: d, capacity: 9)
        let random = { (stream: UInt64, count: Int) in Philox(seed: 11, stream: stream).uniform(count: count).map { 2 * $0 - 1 } }
        let keys = random(0, positions * kvHeads * d), values = random(1, positions * kvHeads * d)  // (R, Hkv·D)
        let (kept, keptValues) = (keys.map { Double(Float16($0)) }, values.map { Double(Float16($0)) })
        let queries = random(2, positions * heads * d)  // (R, H·D)
        cache.append(layer: 1, keys: keys, values: values, rows: positions)
        var scores = [Float](repeating: 0, count: 9), out = [Float](repeating: 0, count: d)
        for row in 0..<positions {
            for head in 0..<heads {
                let kv = head / (heads / kvHeads)
                queries.withUnsafeBufferPointer { q in
                    cache.attend(layer: 1, query: q.baseAddress! + (row * heads + head) * d, row: row, head: head, heads: heads, scores: &scores, into: &out)
                }
                // Row r sees positions 0…r; the reference in Float64.
                let raw = (0...row).map { j in
                    (0..<d).reduce(0.0) { $0 + Double(queries[(row * heads + head) * d + $1]) * kept[(j * kvHeads + kv) * d + $1] } / Double(d).squareRoot()
                }
                let top = raw.max()!, weights = raw.map { exp($0 - top) }, total = weights.reduce(0, +)
                for c in 0..<d {
                    let expected = (0...row).reduce(0.0) { $0 + weights[$1] * keptValues[($1 * kvHeads + kv) * d + c] } / total
                    XCTAssertEqual(Double(out[c]), expected, accuracy: 1e-5, "row \(row) head \(head) column \(c)")
                }
            }
        }
    }
}
