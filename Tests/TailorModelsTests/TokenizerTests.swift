import XCTest

@testable import TailorModels

/// Pre-tokenization and chat templates, without a model file.
final class TokenizerTests: XCTestCase {
    func pieces(_ text: String, _ pre: PreTokenizer = .gpt2) -> [String] {
        let s = Array(text.unicodeScalars)
        return pre.split(s).map { r in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: s[r])
            return String(v)
        }
    }

    func testGPT2PatternSplitsLikeTheRegex() {
        XCTAssertEqual(pieces("Hello world"), ["Hello", " world"])
        XCTAssertEqual(pieces("I'm sure they'll've"), ["I", "'m", " sure", " they", "'ll", "'ve"])
        // A run of spaces leaves its last space to the next word; at the end it stays whole.
        XCTAssertEqual(pieces("a  b   c  "), ["a", " ", " b", "  ", " c", "  "])
        XCTAssertEqual(pieces("x\n\n\ty"), ["x", "\n\n", "\t", "y"])
        XCTAssertEqual(pieces("f(x):  return x**2"), ["f", "(", "x", "):", " ", " return", " x", "**", "2"])
        XCTAssertEqual(pieces("Café 日本語 🤖!"), ["Café", " 日本語", " 🤖!"])
    }

    func testDigitsSplitFirstForSmolLM() {
        XCTAssertEqual(pieces("In 2024 we", .digitsThenGPT2), ["In", " ", "2", "0", "2", "4", " we"])
        XCTAssertEqual(pieces("x½²", .digitsThenGPT2), ["x", "½", "²"])
    }

    func testTheModelsOwnTemplateWritesTheChat() throws {
        let jinja = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are helpful<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
        let template = try ChatTemplate(jinja: jinja)
        XCTAssertEqual(try template.render(prompt: "Hi"),
                       "<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(try template.render(prompt: "Hi", system: "Be brief"),
                       "<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(try ChatTemplate(jinja: nil).render(prompt: "Hi"), "User: Hi\nAssistant:")
        XCTAssertThrowsError(try ChatTemplate(jinja: "{% include 'x' %}"), "a template it cannot read is an error, not plain")
    }

    /// Assistant turns are what rendering each adds after the chat before it: the words and the
    /// end marker the template writes; everything else (system, user, headers) is context.
    func testAssistantTurnsAreToldApartByTheTemplate() throws {
        let template = try ChatTemplate(jinja: "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
        let chat = [ChatTemplate.Message(role: "user", content: "2+2?"), .init(role: "assistant", content: "4"),
                    .init(role: "user", content: "3+3?"), .init(role: "assistant", content: "6")]
        let pieces = try template.pieces(chat)
        XCTAssertEqual(pieces.map(\.text), ["<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n", "4<|im_end|>\n",
                                            "<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n", "6<|im_end|>\n"])
        XCTAssertEqual(pieces.map(\.assistant), [false, true, false, true])
        XCTAssertEqual(pieces.map(\.text).joined(), try template.render(chat, generationPrompt: false))
        let rewriting = try ChatTemplate(jinja: "{{ messages | length }}{% for m in messages %}{{ m.content }}{% endfor %}")
        XCTAssertThrowsError(try rewriting.pieces(chat), "a template whose later turns change earlier text cannot be masked")
    }
}
