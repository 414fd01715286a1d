import Foundation
import TailorDiagnostics
import TailorPlan
import TailorSpec
import XCTest

/// Job descriptions carry node parameters as canonical JSON: read back, they must be the same
/// values (the same kinds, so the same keys).
final class ValueJSONTests: XCTestCase {
    func testEveryPlannedParameterReadsBackAsItself() throws {
        let specs = try FileManager.default.contentsOfDirectory(atPath: Golden.root.appendingPathComponent("specs").path).filter { $0.hasSuffix(".yaml") }
        var checked = 0
        for name in specs {
            var diagnostics = DiagnosticBag()
            let plan = try XCTUnwrap(Compiler().plan(file: Golden.root.appendingPathComponent("specs/" + name).path, diagnostics: &diagnostics), name)
            for node in plan.nodes {
                XCTAssertEqual(try Value(json: node.params.canonicalJSON).canonicalJSON, node.params.canonicalJSON, "\(name) \(node.id)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    func testKindsEscapesAndErrors() throws {
        let v = try Value(json: #" {"i": 3, "n": 3.0, "e": 1e-3, "b": [true, false], "s": "a\"\\\n\u00e9\ud83d\ude00", "o": {}} "#)
        XCTAssertEqual(v["i"]?.int, 3)
        XCTAssertNil(v["n"]?.int, "3.0 is a number, not an integer")
        XCTAssertEqual(v["n"]?.number, 3)
        XCTAssertEqual(v["e"]?.number, 0.001)
        XCTAssertEqual(v["b"]?.list?.compactMap(\.bool), [true, false])
        XCTAssertEqual(v["s"]?.string, "a\"\\\né😀")
        XCTAssertEqual(v["o"]?.entries?.count, 0)
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "1 2", "\"open", String(repeating: "[", count: 100)] {
            XCTAssertThrowsError(try Value(json: bad), bad)
        }
    }
}
