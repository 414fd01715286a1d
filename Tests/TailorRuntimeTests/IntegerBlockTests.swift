import Foundation
@testable import TailorRuntime
import XCTest

/// The integer block kernels: x's 8-bit blocks follow their definition, and the kernel (VNNI or
/// AVX2 where the machine has them) and the portable types (which other machines run) both give
/// the bits of that definition spelled out from the file's blocks.
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
            XCTAssertEqual(Int(q.totals[b]), total, "block \(b)")
        }
        XCTAssertTrue(q.scales[3].isNaN)
    }

    /// Random blocks of each encoding, thirteen weight rows (a group of eight and a short one) and
    /// six rows of x (four together, then two alone): `multiply` against the kernel's definition
    /// spelled out from the file's own blocks, bit for bit, and the portable tile types (what
    /// machines without AVX2 run) against it too.
    func testTheKernelGivesItsDefinitionsBits() throws {
        let (rows, columns, n) = (13, 160, 6)  // five blocks a row: an odd one out
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
            let portable = portableDots(m, q, encoding)
            bytes.withUnsafeBytes { raw in
                for i in 0..<n {
                    for o in 0..<rows {
                        var (even, odd, offsets): (Float, Float, Float) = (0, 0, 0)
                        for b in 0..<blocks {
                            let p = raw.baseAddress! + (o * blocks + b) * size, at = i * blocks + b
                            let d = Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self)))
                            var total = 0
                            for j in 0..<32 {
                                let w = switch encoding {
                                case .q8_0: Int(p.load(fromByteOffset: 2 + j, as: Int8.self))
                                case .q4_0: Int(p.load(fromByteOffset: 2 + j % 16, as: UInt8.self) >> (j < 16 ? 0 : 4) & 0x0F)
                                default: Int(p.load(fromByteOffset: 4 + j % 16, as: UInt8.self) >> (j < 16 ? 0 : 4) & 0x0F)
                                }
                                total += w * Int(q.values[at * 32 + j])
                            }
                            if b % 2 == 0 { even.addProduct(Float(total), d * q.scales[at]) } else { odd.addProduct(Float(total), d * q.scales[at]) }
                            let offset = encoding == .q4_1 ? Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))) : d * -8
                            offsets.addProduct(offset, q.sums[at])
                        }
                        let expected = encoding == .q8_0 ? even + odd : (even + odd) + offsets
                        XCTAssertEqual(y[i * rows + o].bitPattern, expected.bitPattern, "\(encoding) row \(i) out \(o)")
                        XCTAssertEqual(portable[i * rows + o].bitPattern, expected.bitPattern, "portable \(encoding) row \(i) out \(o)")
                    }
                }
            }
        }
    }

    /// The kernel's loop over blocks, taken with the portable tile types, one x row at a time.
    private func portableDots(_ m: BlockMatrix, _ x: QuantizedRows, _ encoding: BlockMatrix.Encoding) -> [Float] {
        let tiles = m.tiles!
        var y = [Float](repeating: 0, count: x.count * m.rows)
        for g in 0..<tiles.groups {
            for i in 0..<x.count {
                var even = PortableTileSums(), odd = even, offsets = even
                for b in 0..<tiles.blocks {
                    let at = i * tiles.blocks + b, p = tiles.tile(g, b)
                    let tile = switch encoding {
                    case .q8_0: PortableTile(p, tiles.valuesOffset, Q8Tiles.self)
                    case .q4_0: PortableTile(p, tiles.valuesOffset, Q40Tiles.self)
                    default: PortableTile(p, tiles.valuesOffset, Q41Tiles.self)
                    }
                    let products = tile.dot(x.values + at * 32, total: x.totals[at])
                    if b % 2 == 0 { even.add(products, tile.d, x.scales[at]) } else { odd.add(products, tile.d, x.scales[at]) }
                    offsets.addOffset(tile.m, x.sums[at])
                }
                let sums = encoding == .q8_0 ? even + odd : (even + odd) + offsets
                y.withUnsafeMutableBufferPointer { sums.store($0.baseAddress! + i * m.rows + g * 8, count: min(8, m.rows - g * 8)) }
            }
        }
        return y
    }
}
