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

    func testChatMLTemplateFromTheModelsJinja() {
        let jinja = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are helpful<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        let template = ChatTemplate(jinja: jinja)
        XCTAssertEqual(template, .chatML(defaultSystem: "You are helpful"))
        XCTAssertEqual(template.render(prompt: "Hi"),
                       "<|im_start|>system\nYou are helpful<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(template.render(prompt: "Hi", system: "Be brief"),
                       "<|im_start|>system\nBe brief<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate(jinja: nil).render(prompt: "Hi"), "User: Hi\nAssistant:")
    }
}
