import Foundation
import TailorRuntime
import XCTest

final class SafetensorsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testRoundTripInEveryWrittenType() throws {
        let a = Tensor([1, -2.5, 3.25, 0.1], shape: [2, 2])
        let b = Tensor((0..<6).map { Float($0) / 7 }, shape: [3, 2]).transposed()  // non-contiguous
        for dtype in [DType.f32, .f16, .bf16] {
            let path = dir.appendingPathComponent("m-\(dtype.rawValue).safetensors").path
            try Safetensors.write(["a": a, "b": b], metadata: ["format": "pt"], dtype: dtype, to: path)
            let (tensors, metadata) = try Safetensors.read(path: path)
            XCTAssertEqual(metadata, ["format": "pt"])
            XCTAssertEqual(tensors["b"]?.shape, [2, 3])
            let tol: Float = dtype == .f32 ? 0 : dtype == .f16 ? 1e-3 : 1e-2
            for (x, y) in zip(tensors["b"]!.scalars, b.scalars) { XCTAssertEqual(x, y, accuracy: tol * Swift.max(1, abs(y))) }
            XCTAssertEqual(tensors["a"]!.scalars[0], 1)
        }
    }

    func testPackedTensorsKeepTheirStorageType() throws {
        let weights = Tensor([1, -2.5, 3.140625, 65504], shape: [2, 2])
        let ids = Tensor([0, 7, 49_151, 3], shape: [4])
        let path = dir.appendingPathComponent("p.safetensors").path
        try Safetensors.write(packed: [
            "w16": try PackedTensor(weights, as: .f16), "wbf": try PackedTensor(weights, as: .bf16),
            "ids": try PackedTensor(ids, as: .i32), "mask": try PackedTensor(Tensor([1, 0, 1], shape: [3]), as: .bool),
        ], to: path)
        let (packed, _) = try Safetensors.readPacked(path: path)
        XCTAssertEqual(packed["w16"]?.dtype, .f16)
        XCTAssertEqual(packed["w16"]?.bytes.count, 8, "two bytes per element at rest")
        XCTAssertEqual(packed["w16"]?.unpacked().scalars, [1, -2.5, 3.140625, 65504])
        XCTAssertEqual(packed["wbf"]?.unpacked().scalars, [1, -2.5, 3.140625, 65536], "bf16 keeps 8 mantissa bits")
        XCTAssertEqual(packed["ids"]?.integers(), [0, 7, 49_151, 3])
        XCTAssertEqual(packed["mask"]?.integers(), [1, 0, 1])
        XCTAssertNil(packed["w16"]?.integers())
        XCTAssertThrowsError(try PackedTensor(Tensor([1.5], shape: [1]), as: .i32)) {
            XCTAssertTrue("\($0)".contains("not a valid I32"))
        }
        XCTAssertThrowsError(try PackedTensor(Tensor([300], shape: [1]), as: .u8))
        // 2³¹ is the first Float past Int32's range (2³¹ − 1 rounds up to it): refused, not a trap.
        XCTAssertThrowsError(try PackedTensor(Tensor([2_147_483_648], shape: [1]), as: .i32))
        XCTAssertEqual(try PackedTensor(Tensor([-2_147_483_648], shape: [1]), as: .i32).integers(), [-2_147_483_648])
        // BF16 rounds to nearest even: 1 + 2⁻⁸ (a tie) rounds down to 1, 1 + 3·2⁻⁸ up to 1 + 2⁻⁶.
        XCTAssertEqual(try PackedTensor(Tensor([1 + 1.0 / 256, 1 + 3.0 / 256], shape: [2]), as: .bf16).unpacked().scalars,
                       [1, 1 + 1.0 / 64])
    }

    func testMalformedFilesGetClearErrors() throws {
        let good = dir.appendingPathComponent("g.safetensors").path
        try Safetensors.write(["w": Tensor([1, 2, 3, 4], shape: [4])], to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let cases: [(Data, String)] = [
            (Data(), "8-byte header length"),
            (bytes.prefix(12), "truncated"),
            (bytes.prefix(bytes.count - 2), "outside the file"),
            (Data([255, 255, 255, 255, 0, 0, 0, 0]), "exceeds"),
            (Data([2, 0, 0, 0, 0, 0, 0, 0]) + Data("[]".utf8), "not a JSON object"),
        ]
        for (data, fragment) in cases {
            XCTAssertThrowsError(try Safetensors.parse(data)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error) should mention '\(fragment)'")
            }
        }
        let lying = #"{"w":{"dtype":"F32","shape":[5],"data_offsets":[0,16]}}"#
        var header = Data(lying.utf8)
        var n = UInt64(header.count).littleEndian
        var file = Data()
        withUnsafeBytes(of: &n) { file.append(contentsOf: $0) }
        header.append(Data(count: 16))
        file.append(header)
        XCTAssertThrowsError(try Safetensors.parse(file)) { XCTAssertTrue("\($0)".contains("bytes for [5]")) }
    }

    /// Random corruptions of a valid file end in a tensor set or a `SafetensorsError`, never a crash.
    func testCorruptedFilesNeverCrash() throws {
        let path = dir.appendingPathComponent("c.safetensors").path
        try Safetensors.write(["a": Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), "b": Tensor([7], shape: [1])],
                              metadata: ["k": "v"], dtype: .bf16, to: path)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = Philox(seed: 77).uniform(count: 30_000).makeIterator()
        func next(_ n: Int) -> Int { Int(rng.next()! * Float(n)) % Swift.max(1, n) }
        var failures = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<(1 + next(3)) {
                switch next(3) {
                case 0: bytes[next(bytes.count)] = UInt8(next(256))
                case 1: bytes.removeSubrange(next(bytes.count)..<bytes.count)
                default: bytes.insert(UInt8(next(256)), at: next(bytes.count))
                }
                if bytes.isEmpty { break }
            }
            do { _ = try Safetensors.parse(Data(bytes)) } catch is SafetensorsError { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 100, "most corruptions are detected")
    }

    /// Optimizer state survives a safetensors checkpoint: training resumed from it matches
    /// training that never stopped, bit for bit.
    func testOptimizerCheckpointResumesExactly() throws {
        func run(steps: Int, from checkpoint: String?, saveTo: String?) throws -> [UInt32] {
            let w = Tensor.randomNormal([8, 4], rng: Philox(seed: 1)).requiringGrad()
            var opt = AdamW([w], weightDecay: 0.01)
            if let checkpoint {
                let (state, _) = try Safetensors.read(path: checkpoint)
                w.storage.pointer.update(from: state["w"]!.pointer, count: w.count)
                try opt.load(state: state.filter { $0.key != "w" })
            }
            let x = Tensor.randomNormal([16, 8], rng: Philox(seed: 2))
            for _ in 0..<steps {
                opt.zeroGrad()
                try x.matmul(w).crossEntropy(targets: (0..<16).map { Int32($0 % 4) }).backward()
                opt.step(lr: 0.01)
            }
            if let saveTo { try Safetensors.write(opt.state().merging(["w": w]) { a, _ in a }, to: saveTo) }
            return w.scalars.map(\.bitPattern)
        }
        let path = dir.appendingPathComponent("opt.safetensors").path
        let straight = try run(steps: 6, from: nil, saveTo: nil)
        _ = try run(steps: 3, from: nil, saveTo: path)
        let resumed = try run(steps: 3, from: path, saveTo: nil)
        XCTAssertEqual(straight, resumed)
    }
}
