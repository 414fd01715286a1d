import Foundation
import TailorDiagnostics
import TailorYAML
import XCTest

final class YAMLLoaderTests: XCTestCase {
    func load(_ text: String, limits: YAMLLimits = .default) -> (YAMLNode?, DiagnosticBag) {
        var d = DiagnosticBag()
        let node = YAMLLoader.load(bytes: Array(text.utf8), file: "t.yaml", limits: limits, diagnostics: &d)
        return (node, d)
    }

    func testNodesKeepLineAndColumn() {
        let (node, d) = load("a: 1\nb:\n  c: [x, y]\n")
        XCTAssertFalse(d.hasErrors)
        let c = node?["b"]?["c"]
        XCTAssertEqual(c?.location.line, 3)
        XCTAssertEqual(c?.location.column, 6)
        XCTAssertEqual(c?.items?[1].location.column, 10)
    }

    func testAnchorsAliasesAndMergeKeys() {
        let (node, d) = load("""
            base: &b { lr: 1, steps: 2 }
            copy: *b
            tuned:
              <<: *b
              steps: 5
            """)
        XCTAssertFalse(d.hasErrors)
        XCTAssertEqual(node?["copy"]?["lr"]?.scalar, "1")
        XCTAssertEqual(node?["tuned"]?["steps"]?.scalar, "5", "explicit keys win over merged ones")
        XCTAssertEqual(node?["tuned"]?["lr"]?.scalar, "1")
        XCTAssertEqual(node?["tuned"]?.pairs?.count, 2)
    }

    func testBillionLaughsIsRejectedQuickly() {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        var prev = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i", "j"] {
            text += "\(name): &\(name) [" + Array(repeating: "*\(prev)", count: 10).joined(separator: ", ") + "]\n"
            prev = name
        }
        let start = Date()
        let (node, d) = load(text)
        XCTAssertNil(node)
        XCTAssertTrue(d.items.contains { $0.message.contains("aliases expand") })
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)
    }

    func testDepthAndSizeAreBounded() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let (n1, d1) = load(deep)
        XCTAssertNil(n1)
        XCTAssertTrue(d1.items.contains { $0.message.contains("nesting is deeper") })
        let (n2, d2) = load("a: 1\n", limits: YAMLLimits(maxBytes: 3))
        XCTAssertNil(n2)
        XCTAssertTrue(d2.items.contains { $0.message.contains("too large") })
    }

    func testDuplicateKeysAreErrors() {
        let (node, d) = load("a: 1\nb: 2\na: 3\n")
        XCTAssertNil(node)
        XCTAssertEqual(d.items.first?.message, "duplicate key 'a'")
        XCTAssertEqual(d.items.first?.location?.line, 3)
        XCTAssertEqual(d.items.first?.notes.first?.location?.line, 1)
    }

    func testMalformedInputGetsLocatedErrors() {
        let cases: [(String, String, Int)] = [
            ("a: 1\n---\nb: 2\n", "second one", 2),
            ("", "file is empty", 1),
            ("a:\n\tb: 1\n", "tab character", 2),
            ("a: [1, 2\nb: 3\n", "invalid YAML", 2),
            ("a: *nowhere\n", "names no anchor", 1),
        ]
        for (text, fragment, line) in cases {
            let (node, d) = load(text)
            XCTAssertNil(node, text)
            XCTAssertTrue(d.items.contains { $0.message.contains(fragment) }, "\(text): \(d.items.map(\.message))")
            XCTAssertEqual(d.items.first?.location?.line, line, text)
        }
        var d = DiagnosticBag()
        XCTAssertNil(YAMLLoader.load(bytes: [0x61, 0x3A, 0x20, 0xFF, 0x0A], file: "t.yaml", diagnostics: &d))
        XCTAssertEqual(d.items.first?.location?.column, 4)
    }

    func testRandomBytesNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ab:- \n\t[]{},&*!|>'\"#%@`?<".utf8)
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<40, using: &rng)
            let bytes = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            var d = DiagnosticBag()
            let node = YAMLLoader.load(bytes: bytes, file: "f.yaml", diagnostics: &d)
            XCTAssertTrue(node != nil || d.hasErrors)
        }
    }
}
