import Foundation
import TailorModels
import XCTest

/// The chat templates of SmolLM2, Llama 3, Qwen2.5, Mistral and Gemma, rendered by Tailor's
/// Jinja reader, equal Python jinja2's renderings (Fixtures/chat-templates, made by its
/// render.py as transformers renders: trim_blocks, lstrip_blocks), refusals included.
final class ChatTemplateJinjaTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/chat-templates")

    struct Case: Decodable {
        struct Message: Decodable { var role: String, content: String }
        var template: String, conversation: String
        var messages: [Message]
        var add_generation_prompt: Bool
        var bos_token: String, eos_token: String
        var output: String?
        var error: String?
    }

    func testTemplatesRenderAsJinja2Does() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json")))
        XCTAssertGreaterThanOrEqual(Set(cases.map(\.template)).count, 5)
        var templates: [String: JinjaTemplate] = [:]
        for c in cases {
            if templates[c.template] == nil {
                templates[c.template] = try JinjaTemplate(String(contentsOf: Self.fixtures.appendingPathComponent(c.template + ".jinja"), encoding: .utf8))
            }
            let label = "\(c.template) / \(c.conversation) / generation prompt \(c.add_generation_prompt)"
            do {
                let out = try templates[c.template]!.render(messages: c.messages.map { ($0.role, $0.content) }, addGenerationPrompt: c.add_generation_prompt,
                                                             bosToken: c.bos_token, eosToken: c.eos_token)
                XCTAssertEqual(out, c.output, label)
            } catch let error as JinjaError {
                guard case .raised(let message) = error, let expected = c.error else { return XCTFail("\(label): \(error)") }
                XCTAssertTrue(expected.contains(message), "\(label): raised '\(message)', jinja2 raised '\(expected)'")
            }
        }
    }

    func testWhitespaceControlAndExpressions() throws {
        func render(_ source: String, _ messages: [(String, String)] = []) throws -> String {
            try JinjaTemplate(source).render(messages: messages.map { (role: $0.0, content: $0.1) }, addGenerationPrompt: true)
        }
        XCTAssertEqual(try render("{% if true %}\n  yes\n{% endif %}\n"), "  yes\n", "trim_blocks and lstrip_blocks")
        XCTAssertEqual(try render("a  {%- if true -%}  b  {%- endif %}"), "ab")
        XCTAssertEqual(try render("{{ 'x' ~ (1 + 2) }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 2 ** 3 }}|{{ 'ab'[::-1] }}"), "x3|3|-4|8|ba")
        XCTAssertEqual(try render("x\n"), "x", "one trailing newline of the template is dropped, as Jinja does by default")
        XCTAssertEqual(try render("{% for m in messages %}{{ loop.index }}{{ m.role[0] }}{% if not loop.last %},{% endif %}{% endfor %}",
                                  [("user", "a"), ("assistant", "b")]), "1u,2a")
        XCTAssertEqual(try render("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set local = 1 %}{% endfor %}{{ ns.n }}{{ local is defined }}",
                                  [("user", "a"), ("user", "b")]), "2False", "a loop's set stays in the loop; a namespace carries out")
        XCTAssertEqual(try render("{{ {'a': [1, 'x', none]} | tojson }}"), #"{"a": [1, "x", null]}"#)
        XCTAssertEqual(try render("{{ messages[0]['content'] | trim }}{{ ' x ' .strip() }}", [("user", "  hi \n")]), "hix")
        XCTAssertThrowsError(try JinjaTemplate("{% macro m() %}{% endmacro %}")) { error in
            XCTAssertEqual("\(error)", "the chat template cannot be read: `{% macro %}` is not supported by Tailor's template reader")
        }
        XCTAssertThrowsError(try render("{{ raise_exception('no system') }}")) { XCTAssertEqual($0 as? JinjaError, .raised("no system")) }
        XCTAssertThrowsError(try JinjaTemplate("{% if x %}unclosed"))
    }
}
