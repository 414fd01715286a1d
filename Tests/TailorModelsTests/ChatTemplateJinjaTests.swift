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

    /// A hostile or broken template (it comes from the user's model file) is an error, never a
    /// trap, a hang or a stack overflow.
    func testBadTemplatesAreErrorsNotCrashes() {
        let hostile = [
            "{{ 1.² }}", "{{ 99999999999999999999 }}", "{{ range() }}", "{{ range(9223372036854775807) | length }}",
            "{{ [1, 2][:9223372036854775807] }}{{ [1][::9223372036854775807] }}", "{{ 9223372036854775807 // 1 }}{{ (-9223372036854775807 - 1) // -1 }}",
            "{{ -(-9223372036854775807 - 1) }}", "{{ 9223372036854775807 + 1 }}", "{{ 'nan' | int }}{{ '1e400' | int }}",
            "{{ [1] | tojson(indent=-1) }}", "{{ 'a' * 9223372036854775807 }}", "{% for a, a in [[1, 2]] %}{% endfor %}",
            String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000),
            String(repeating: "{% if true %}", count: 5000), "{{ " + String(repeating: "not ", count: 5000) + "x }}",
            "{{ " + String(repeating: "-", count: 5000) + "1 }}", "{{ 'x' | trim('x') }}", "{{ 'a'.startswith(('a', 'b')) }}",
            "{% if x %}{% else junk %}{% endif %}", "{{ 'unclosed }}", "{% for %}", "{{ }}", "{{ messages[0]['role'] }}",
            "{{ 2 ** 64 }}", "{{ 1 % 0 }}{{ 1.5 // 0 }}", "{{ x.y.z }}{{ undefined_name | length }}",
        ]
        for source in hostile {
            do {
                _ = try JinjaTemplate(source).render(messages: [], addGenerationPrompt: true)
            } catch is JinjaError {
                continue
            } catch {
                XCTFail("\(source.prefix(40)): \(error)")
            }
        }
    }

    /// Jinja's own rules where chat templates meet them, each checked against jinja2 by hand.
    func testJinjaEdgeCasesAsJinja2() throws {
        func render(_ source: String) throws -> String { try JinjaTemplate(source).render(messages: [("user", "hi")], addGenerationPrompt: false) }
        XCTAssertEqual(try render("{% if true %}\r\n  yes\r\n{% endif %}\r\n"), "  yes\n", "CRLF is a newline")
        XCTAssertEqual(try render("{%\n if true\n %}a{%\n elif false %}b{%\n endif\n %}"), "a", "tags may start with a newline")
        XCTAssertEqual(try render("{% if true +%}\nx{% endif %}"), "\nx", "`+%}` keeps the newline")
        XCTAssertEqual(try render("{{ messages[5] is defined }}|{{ 'a' in undefined_name }}"), "False|False")
        XCTAssertEqual(try render("{{ tools is none }}"), "True", "tools is passed as None, as transformers does")
        XCTAssertEqual(try render(#"{{ 'caf\u00e9<&>' | tojson }}"#), "\"café<&>\"", "transformers' tojson keeps non-ASCII and does not escape HTML")
        XCTAssertEqual(try render(#"{{ 'a\db' }}"#), #"a\db"#, "an unknown escape keeps its backslash")
        XCTAssertEqual(try render("{{ 7 // -2 }} {{ 7 % -2 }} {{ -7 % 2 }}"), "-4 -1 1")
        XCTAssertEqual(try render("{{ [1, 2, 3][::-1] }} {{ [1, 2, 3][-2:] }}"), "[3, 2, 1] [2, 3]")
    }

    /// Where a Hugging Face folder keeps its template: `chat_template.jinja`, or
    /// `tokenizer_config.json`'s `chat_template` as text or as named templates (`default`).
    func testFoldersGiveTheirTemplateInEveryShape() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tailor-template-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"{"model_type": "llama"}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        func config(_ json: String) throws { try json.write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8) }
        try config(#"{"bos_token": "<s>"}"#)
        XCTAssertNil(try HuggingFaceFolder(path: dir).chatTemplate())
        try config(#"{"chat_template": "{{ messages[0].content }}"}"#)
        XCTAssertEqual(try HuggingFaceFolder(path: dir).chatTemplate(), "{{ messages[0].content }}")
        try config(#"{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}"#)
        XCTAssertEqual(try HuggingFaceFolder(path: dir).chatTemplate(), "D")
        try config(#"{"chat_template": [{"name": "tool_use", "template": "T"}]}"#)
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir).chatTemplate(), "named templates without a default are not skipped")
        try config(#"{"chat_template": 3}"#)
        XCTAssertThrowsError(try HuggingFaceFolder(path: dir).chatTemplate())
        try "{{ 'separate' }}".write(toFile: dir + "/chat_template.jinja", atomically: true, encoding: .utf8)
        XCTAssertEqual(try HuggingFaceFolder(path: dir).chatTemplate(), "{{ 'separate' }}", "chat_template.jinja comes first")
    }
}
