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
}
