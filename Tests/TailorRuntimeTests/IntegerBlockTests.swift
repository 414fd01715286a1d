import Foundation
@testable import TailorRuntime
import XCTest

/// The integer block kernels: x's 8-bit blocks follow their definition, and the kernel (AVX2
/// where the machine has it) gives the bits of its operations spelled out one lane at a time by
/// the portable types, which machines without AVX2 run.
final class IntegerBlockTests: XCTestCase {
    func testRowsQuantiseToTheNearestStepOfTheirBlocksLargestOver127() {
        var x = Philox(seed: 5, stream: 0).uniform(count: 3 * 64).map { 6 * $0 - 3 }
        for j in 64..<96 { x[j] = 0 }
        x[100] = .nan  // no trap: that block's values are whatever, its step NaN
        let q = x.withUnsafeBufferPointer { QuantizedRows($0.baseAddress!, rows: 3, columns: 64) }
        defer { q.deallocate() }
        for b in 0..<6 where b != 3 {
            let block = x[b * 32..<(b + 1) * 32], step = block.map(abs).max()! / 127
            XCTAssertEqual(q.scales[b], step, "block \(b)")
            var total = 0
            for (j, v) in block.enumerated() {
                let expected = step == 0 ? 0 : Int((v * (1 / step)).rounded(.toNearestOrEven))
                XCTAssertEqual(Int(q.values[b * 32 + j]), expected, "block \(b) value \(j)")
                XCTAssertLessThanOrEqual(abs(expected), 127)
                total += expected
            }
            XCTAssertEqual(q.sums[b], step * Float(total), "block \(b)")
        }
        XCTAssertTrue(q.scales[3].isNaN)
    }

    /// Random blocks of each encoding, several rows of x: `multiply` against the documented order
    /// computed with the portable lanes.
    func testTheKernelGivesThePortableOperationsBits() throws {
        let (rows, columns, n) = (5, 160, 6)  // five blocks a row: an odd one out
        let x = Philox(seed: 9, stream: 1).uniform(count: n * columns).map { 4 * $0 - 2 }
        let q = x.withUnsafeBufferPointer { QuantizedRows($0.baseAddress!, rows: n, columns: columns) }
        defer { q.deallocate() }
        for encoding in [BlockMatrix.Encoding.q8_0, .q4_0, .q4_1] {
            let blocks = columns / 32, size = encoding.blockBytes
            var bytes = Philox(seed: 2, stream: 3).uniform(count: rows * blocks * size).map { UInt8(Int($0 * 256) & 0xFF) }
            for b in 0..<rows * blocks {  // finite f16 scales and minimums
                for k in [0, 2] where k == 0 || encoding == .q4_1 {
                    let bits = Float16(0.01 + Float(b % 7) * 0.013 - (k == 2 ? 0.05 : 0)).bitPattern
                    (bytes[b * size + k], bytes[b * size + k + 1]) = (UInt8(bits & 0xFF), UInt8(bits >> 8))
                }
            }
            let m = try BlockMatrix(encoding, rows: rows, columns: columns, bytes: Data(bytes))
            var y = [Float](repeating: 0, count: n * rows)
            y.withUnsafeMutableBufferPointer { p in x.withUnsafeBufferPointer { m.multiply($0.baseAddress!, rows: n, into: p.baseAddress!) } }
            bytes.withUnsafeBytes { raw in
                for i in 0..<n {
                    for o in 0..<rows {
                        var even = PortableLanes8(), odd = PortableLanes8(), offsets = [Float]()
                        for b in 0..<blocks {
                            let p = raw.baseAddress! + (o * blocks + b) * size, at = i * blocks + b
                            let d = Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self)))
                            let weights = encoding == .q8_0 ? PortableWeightBlock(signed: p + 2) : PortableWeightBlock(nibbles: p + (encoding == .q4_0 ? 2 : 4))
                            let products = weights.dot(q.values + at * 32, signed: encoding == .q8_0)
                            if b % 2 == 0 { even.add(products, q.scales[at], d) } else { odd.add(products, q.scales[at], d) }
                            offsets.append(encoding == .q4_1 ? Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))) : -8 * d)
                        }
                        var expected = (even + odd).total
                        if encoding != .q8_0 { expected += BlockMatrix.offsetDot(offsets, q.sums + i * blocks, blocks) }
                        XCTAssertEqual(y[i * rows + o].bitPattern, expected.bitPattern, "\(encoding) row \(i) out \(o)")
                    }
                }
            }
        }
    }
}
