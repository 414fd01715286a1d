import Dispatch
import Synchronization
import TailorModels

/// One decoder behind the server, and its LoRA adapters: each adapter is a view of the one base
/// (its weights held once) with the adapter's update on its modules, served under a name of its
/// own. One serial queue for the whole server runs one generation at a time off its threads
/// (a forward pass already uses every core; batching concurrent requests together comes next).
public final class ServedModel: @unchecked Sendable {  // the queue serialises every use of the model
    public let name: String
    /// The base first, then each adapter, with its name and where it was read from.
    let variants: [(name: String, adapter: String?, generator: Generator)]
    let template: ChatTemplate
    /// Shared by every served model: two forward passes at once would only contend for the cores.
    static let queue = DispatchQueue(label: "tailor.serve.generate")
    var queue: DispatchQueue { Self.queue }
    /// Generations admitted and not yet finished, over every served model (running or waiting).
    static let admitted = Mutex(0)

    /// Admits one more generation if fewer than `limit` are admitted; `release` when it ends.
    func admit(limit: Int) -> Bool {
        Self.admitted.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { Self.admitted.withLock { $0 -= 1 } }

    /// `adapters`: each a name and a PEFT LoRA folder. One whose modules or shapes do not fit
    /// the base is refused here, before the server starts (never a success for a broken path).
    public init(name: String, model: any CausalLM, tokenizer: BPETokenizer, template: ChatTemplate,
                adapters: [(name: String, path: String)] = []) throws {
        self.name = name
        self.template = template
        var variants: [(String, String?, Generator)] = [(name, nil, Generator(model: model, tokenizer: tokenizer))]
        for (adapterName, path) in adapters {
            guard !variants.contains(where: { $0.0 == adapterName }) else { throw ServeError("two models are named '\(adapterName)'") }
            let view: any CausalLM & Adaptable
            switch model {
            case let llama as Llama: view = llama.sharingWeights()
            case let gpt2 as GPT2: view = gpt2.sharingWeights()
            default: throw ServeError("the model takes no LoRA adapters")
            }
            try PEFTAdapter.load(from: path, into: view)
            variants.append((adapterName, path, Generator(model: view, tokenizer: tokenizer)))
        }
        self.variants = variants
    }

    /// The generator serving the model or adapter `name`.
    func generator(_ name: String) -> Generator? { variants.first { $0.name == name }?.generator }
    var generator: Generator { variants[0].generator }

    var context: Int { generator.model.context }

    /// The ids of a prompt; a chat's (rendered by the template) may hold its special tokens.
    func encode(_ text: String, chat: Bool) -> [Int32] { generator.tokenizer.encode(text, specials: chat) }

    /// One continuation of `ids` by the model or adapter `name`, `delta` told each piece of text as it becomes final (never
    /// text that a stop string or a partly decoded character could still take back).
    func generate(_ ids: [Int32], model name: String, options: SamplingOptions, delta: @escaping @Sendable (String) -> Void) async -> Generation {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                let generator = self.generator(name) ?? self.generator
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

/// A model or adapter that cannot be served, said before the server starts.
public struct ServeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
