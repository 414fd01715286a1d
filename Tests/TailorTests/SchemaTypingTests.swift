import Foundation
import TailorDiagnostics
@testable import TailorSpec
import TailorYAML
import XCTest

/// Scalars are typed by the schema at their key, not by YAML 1.1 guessing.
final class SchemaTypingTests: XCTestCase {
    func check(_ yaml: String, as type: SchemaType) -> (Value?, DiagnosticBag) {
        var d = DiagnosticBag()
        guard let node = YAMLLoader.load(bytes: Array(yaml.utf8), file: "t.yaml", diagnostics: &d) else { return (nil, d) }
        var checker = SchemaChecker()
        let v = checker.check(node, as: type, key: "k")
        return (v, checker.diagnostics)
    }

    func testNumbersStringsAndBooleans() {
        XCTAssertEqual(check("1e-3", as: .number(min: nil, max: nil, minExclusive: false)).0?.number, 0.001)
        XCTAssertEqual(check("no", as: .string).0?.string, "no")
        XCTAssertEqual(check("1.10", as: .string).0?.string, "1.10")
        XCTAssertEqual(check("4_000", as: .int(min: nil, max: nil)).0?.int, 4000)
        XCTAssertEqual(check("1e3", as: .int(min: nil, max: nil)).0?.int, 1000)
        XCTAssertEqual(check("true", as: .bool).0?.bool, true)
        let (v, d) = check("yes", as: .bool)
        XCTAssertNil(v)
        XCTAssertTrue(d.items.first?.notes.first?.message.contains("write 'true'") ?? false)
        XCTAssertNil(check("\"3\"", as: .int(min: nil, max: nil)).0, "quoted text is a string")
        XCTAssertNil(check(".inf", as: .number(min: nil, max: nil, minExclusive: false)).0)
        XCTAssertNil(check("0x10", as: .int(min: nil, max: nil)).0)
    }

    func testCanonicalNumbersDoNotDependOnSpelling() {
        let a = check("1e-3", as: .number(min: nil, max: nil, minExclusive: false)).0!
        let b = check("0.001", as: .number(min: nil, max: nil, minExclusive: false)).0!
        let c = check("1", as: .number(min: nil, max: nil, minExclusive: false)).0!
        XCTAssertEqual(a.canonicalJSON, b.canonicalJSON)
        XCTAssertEqual(c.canonicalJSON, "1.0")
    }

    func testUnknownKeysSuggestAndAllErrorsAreReported() {
        let (_, d) = check("{ rnak: 4, alpha: -1, lora_alpha: 2 }", as: .object(ModelSchema.lora))
        XCTAssertEqual(d.errorCount, 3)
        XCTAssertTrue(d.items.contains { $0.notes.contains { $0.message == "did you mean 'rank'?" } })
        XCTAssertTrue(d.items.contains { $0.notes.contains { $0.message.contains("Tailor's name for 'lora_alpha'") } })
    }

    func testSuggestionDistance() {
        XCTAssertEqual(Suggestions.distance("tokenzier", "tokenizer"), 1)
        XCTAssertEqual(Suggestions.closest(to: "modles", in: ["data", "models", "evals"]), ["models"])
        XCTAssertEqual(Suggestions.closest(to: "xyz", in: ["data", "models"]), [])
    }
}
