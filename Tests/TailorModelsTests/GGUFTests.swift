import Foundation
import TailorRuntime
import XCTest

@testable import TailorModels

/// GGUF reading on files built here byte by byte: every supported type dequantises to
/// hand-computed values, and every truncation or corruption is an error, never a crash.
final class GGUFTests: XCTestCase {
    func testDequantisesEverySupportedType() throws {
        var w = GGUFWriter()
        w.metadata("general.architecture", .string("llama"))
        // Q8_0: scale 0.5, values −16…15 → −8…7.5.
        w.tensor("q8", shape: [32], type: 8, data: half(0.5) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) })
        // Q4_0: scale 2, nibbles j (low) and 15 − j (high) → 2·(j − 8) and 2·(7 − j).
        w.tensor("q4_0", shape: [32], type: 2, data: half(2) + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 })
        // Q4_1: scale 0.25, minimum −1 → −1 + 0.25·nibble.
        w.tensor("q4_1", shape: [32], type: 3, data: half(0.25) + half(-1) + (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 })
        w.tensor("f16", shape: [2], type: 1, data: half(1.5) + half(-65504))
        w.tensor("bf16", shape: [2], type: 30, data: [0x80, 0x3F, 0x20, 0xC0])  // 1.0, −2.5
        w.tensor("f32", shape: [1, 2], type: 0, data: bytes(Float(3).bitPattern) + bytes(Float(-0.125).bitPattern))
        let file = try GGUFFile(data: w.data())
        XCTAssertEqual(try file.tensor("q8").scalars, (0..<32).map { Float($0 - 16) / 2 })
        XCTAssertEqual(try file.tensor("q4_0").scalars, (0..<16).map { Float(2 * ($0 - 8)) } + (0..<16).map { Float(2 * (7 - $0)) })
        XCTAssertEqual(try file.tensor("q4_1").scalars, (0..<16).map { -1 + 0.25 * Float($0) } + (0..<16).map { -1 + 0.25 * Float(15 - $0) })
        XCTAssertEqual(try file.tensor("f16").scalars, [1.5, -65504])
        XCTAssertEqual(try file.tensor("bf16").scalars, [1, -2.5])
        let f32 = try file.tensor("f32")
        XCTAssertEqual(f32.shape, [1, 2], "GGUF lists dimensions fastest first; shapes here are row-major")
        XCTAssertEqual(f32.scalars, [3, -0.125])
        XCTAssertEqual(file.architecture, "llama")
    }

    func testUnsupportedTypeIsListedButRefusedWhenRead() throws {
        var w = GGUFWriter()
        w.tensor("k", shape: [256], type: 12, data: [])  // Q4_K
        let file = try GGUFFile(data: w.data())
        XCTAssertEqual(file.tensors.first?.type.name, "Q4_K")
        XCTAssertThrowsError(try file.tensor("k")) { XCTAssertTrue("\($0)".contains("Q4_K, which Tailor cannot read yet"), "\($0)") }
    }

    func testEveryTruncationIsAnError() throws {
        var w = GGUFWriter()
        w.metadata("general.name", .string("tiny"))
        w.metadata("list", .array(type: 4, [.u32(1), .u32(2)]))
        w.tensor("w", shape: [32], type: 8, data: half(1) + [UInt8](repeating: 1, count: 32))
        let full = w.data()
        XCTAssertNoThrow(try GGUFFile(data: full))
        for n in 0..<full.count {
            XCTAssertThrowsError(try GGUFFile(data: full.prefix(n)), "a file cut to \(n) of \(full.count) bytes")
        }
    }

    func testCorruptHeadersGetPlainErrors() throws {
        func problem(_ data: Data) -> String {
            do {
                _ = try GGUFFile(data: data)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(problem(Data("GGML....".utf8)).contains("not a GGUF file"))
        var w = GGUFWriter()
        w.version = 7
        XCTAssertTrue(problem(w.data()).contains("GGUF version 7 is not supported"))
        // A tensor count far beyond what the file could hold must not allocate.
        var huge = GGUFWriter().data()
        huge.replaceSubrange(8..<16, with: bytes(UInt64.max / 2))
        XCTAssertTrue(problem(huge).contains("more than the file could hold"), problem(huge))
        // Random byte flips: errors or a parsed file, never a crash.
        var base = GGUFWriter()
        base.metadata("general.name", .string("x"))
        base.tensor("w", shape: [32], type: 3, data: half(1) + half(0) + [UInt8](repeating: 0x21, count: 16))
        let good = base.data()
        let rng = Philox(seed: 7)
        for trial in 0..<2000 {
            var bad = good
            let r = rng.uniform(count: 2, start: UInt64(2 * trial))
            bad[Int(r[0] * Float(bad.count))] = UInt8(r[1] * 255)
            if let file = try? GGUFFile(data: bad) { for t in file.tensors { _ = try? file.tensor(t) } }
        }
    }
}

// MARK: - A minimal GGUF writer for the tests

struct GGUFWriter {
    enum Value {
        case string(String), u32(UInt32)
        indirect case array(type: UInt32, [Value])
    }

    var version: UInt32 = 3
    var kvs: [(String, Value)] = []
    var tensors: [(String, [Int], UInt32, [UInt8])] = []

    mutating func metadata(_ key: String, _ value: Value) { kvs.append((key, value)) }
    mutating func tensor(_ name: String, shape: [Int], type: UInt32, data: [UInt8]) { tensors.append((name, shape, type, data)) }

    func data() -> Data {
        var d = Data("GGUF".utf8)
        d += bytes(version) + bytes(UInt64(tensors.count)) + bytes(UInt64(kvs.count))
        func string(_ s: String) -> [UInt8] { bytes(UInt64(s.utf8.count)) + Array(s.utf8) }
        func value(_ v: Value) -> [UInt8] {
            switch v {
            case .string(let s): string(s)
            case .u32(let x): bytes(x)
            case .array(let type, let items): bytes(type) + bytes(UInt64(items.count)) + items.flatMap(value)
            }
        }
        func typeID(_ v: Value) -> UInt32 {
            switch v {
            case .string: 8
            case .u32: 4
            case .array: 9
            }
        }
        for (k, v) in kvs { d += string(k) + bytes(typeID(v)) + value(v) }
        var offset = 0
        var blobs = Data()
        // Shapes are given row-major and written fastest first; no padding after the last tensor.
        for (i, (name, shape, type, data)) in tensors.enumerated() {
            d += string(name) + bytes(UInt32(shape.count)) + shape.reversed().flatMap { bytes(UInt64($0)) } + bytes(type) + bytes(UInt64(offset))
            blobs += data
            let padded = i == tensors.count - 1 ? data.count : (data.count + 31) / 32 * 32
            blobs += [UInt8](repeating: 0, count: padded - data.count)
            offset += padded
        }
        d += [UInt8](repeating: 0, count: (32 - d.count % 32) % 32)
        return d + blobs
    }
}

func bytes<T: FixedWidthInteger>(_ x: T) -> [UInt8] { withUnsafeBytes(of: x.littleEndian) { Array($0) } }
func half(_ x: Float) -> [UInt8] { bytes(Float16(x).bitPattern) }
