import Dispatch
import TailorModels

/// One decoder behind the server: its weights, tokenizer and chat template, and a serial queue
/// that runs one generation at a time off the server's threads (the model's forward pass
/// already uses every core; batching concurrent requests together comes next).
public final class ServedModel: @unchecked Sendable {  // the queue serialises every use of the model
    public let name: String
    let generator: Generator
    let template: ChatTemplate
    let queue = DispatchQueue(label: "tailor.serve.model")

    public init(name: String, model: any CausalLM, tokenizer: BPETokenizer, template: ChatTemplate) {
        self.name = name
        generator = Generator(model: model, tokenizer: tokenizer)
        self.template = template
    }

    var context: Int { generator.model.context }

    /// The ids of a prompt; a chat's (rendered by the template) may hold its special tokens.
    func encode(_ text: String, chat: Bool) -> [Int32] { generator.tokenizer.encode(text, specials: chat) }

    /// One continuation of `ids`, `delta` told each piece of text as it becomes final (never
    /// text that a stop string or a partly decoded character could still take back).
    func generate(_ ids: [Int32], options: SamplingOptions, delta: @escaping @Sendable (String) -> Void) async -> Generation {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                var sent = ""
                var timings = GenerationTimings()
                let result = generator.generate(ids: [ids], options: options, timings: &timings) { partial in
                    let piece = Self.settled(partial[0].text, after: sent, stop: options.stop)
                    if !piece.isEmpty {
                        sent += piece
                        delta(piece)
                    }
                }[0]
                if result.text.hasPrefix(sent), result.text.count > sent.count { delta(String(result.text.dropFirst(sent.count))) }
                continuation.resume(returning: result)
            }
        }
    }

    /// The part of `text` after `sent` that no later token can change: all of it but a trailing
    /// replacement character (a character whose bytes have not all come) and the longest end
    /// that begins a stop string.
    static func settled(_ text: String, after sent: String, stop: [String]) -> String {
        guard text.hasPrefix(sent) else { return "" }
        var new = Substring(text.dropFirst(sent.count))
        while new.last == "\u{FFFD}" { new = new.dropLast() }
        let full = sent + new
        let held = stop.map { s in (1...s.count).reversed().first { full.hasSuffix(s.prefix($0)) } ?? 0 }.max() ?? 0
        return String(new.dropLast(Swift.min(held, new.count)))
    }
}
