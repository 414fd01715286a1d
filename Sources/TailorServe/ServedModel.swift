import Dispatch
import Synchronization
import TailorModels

/// One decoder behind the server, and its LoRA adapters: each adapter is served under a name of
/// its own over the one base (its weights held once). Requests run through the model's
/// `BatchDecoder`: each joins the running batch at the next step and decodes alongside the
/// others, whichever base or adapter they name, none changing another's text.
public final class ServedModel: @unchecked Sendable {  // `base` is only read (adapter views share it); the rest is immutable or behind a mutex
    /// A name requests may give: the base (no adapter) or one of its adapters.
    struct Variant: Sendable {
        let name: String
        /// Where the adapter came from: a PEFT folder, or a spec's model node.
        let path: String?
        let adapters: DecodingAdapters?
        /// How chats are written for it (a spec's fine-tuned model may carry its own template).
        let template: ChatTemplate
        var isBase: Bool { adapters == nil }
    }

    public let name: String
    let template: ChatTemplate
    let tokenizer: BPETokenizer
    let decoder: BatchDecoder
    public let context: Int
    /// The float decoder adapters are checked against and loaded onto (a view of it each).
    private let base: any CausalLM
    private let table: Mutex<[Variant]>
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

    /// `model` is the float decoder adapters are checked against and loaded onto, `decoding` the
    /// same model laid out for serving (`maxBatch` sequences a step). `adapters`: each a name and a
    /// PEFT LoRA folder; one whose modules or shapes do not fit the base is refused here, before
    /// the server starts (never a success for a broken path). With `servesBase` false the base is
    /// only what its adapters adapt (its name is their `parent`), not a model requests may name.
    public init(name: String, model: any CausalLM, decoding: any DecodingModel, tokenizer: BPETokenizer, template: ChatTemplate,
                adapters: [(name: String, path: String)] = [], maxBatch: Int = 32, servesBase: Bool = true) throws {
        self.name = name
        self.template = template
        self.tokenizer = tokenizer
        base = model
        context = decoding.context
        table = Mutex(servesBase ? [Variant(name: name, path: nil, adapters: nil, template: template)] : [])
        decoder = BatchDecoder(model: decoding, tokenizer: tokenizer, maxSequences: maxBatch)
        for (adapterName, path) in adapters { _ = try load(adapter: adapterName, from: path, taken: []) }
    }

    /// The base first, then each adapter loaded, in the order they came.
    var variants: [Variant] { table.withLock { $0 } }

    /// Reads the PEFT LoRA folder at `path` and serves it as `adapterName` from the next request on;
    /// `taken` are names other served models already use. A folder that does not fit the base, or
    /// a name already served, is refused with the reason and changes nothing.
    func load(adapter adapterName: String, from path: String, taken: [String]) throws -> Variant {
        guard let view = ModelPool.view(base) as? any CausalLM & Adaptable else { throw ServeError("the model takes no LoRA adapters") }
        try PEFTAdapter.load(from: path, into: view)
        return try add(Variant(name: adapterName, path: path, adapters: DecodingAdapters(view.adapters), template: template), taken: taken)
    }

    /// Serves adapters already read (a spec model that is a LoRA of this base) as `adapterName`;
    /// chats to it are written with `template`.
    public func add(adapter adapterName: String, _ set: AdapterSet, source: String, template: ChatTemplate) throws {
        _ = try add(Variant(name: adapterName, path: source, adapters: DecodingAdapters(set), template: template), taken: [])
    }

    private func add(_ variant: Variant, taken: [String]) throws -> Variant {
        let adapterName = variant.name
        try table.withLock { variants in
            guard !variants.contains(where: { $0.name == adapterName }), !taken.contains(adapterName) else {
                throw ServeError("a model named '\(adapterName)' is already served")
            }
            variants.append(variant)
        }
        return variant
    }

    /// Stops serving the adapter `adapterName`; requests already running with it finish with it.
    func unload(adapter adapterName: String) throws {
        try table.withLock { variants in
            guard let i = variants.firstIndex(where: { $0.name == adapterName }) else { throw ServeError("no adapter named '\(adapterName)' is loaded") }
            guard !variants[i].isBase else { throw ServeError("'\(adapterName)' is the base model, not an adapter; it cannot be unloaded") }
            if let adapters = variants.remove(at: i).adapters { decoder.forget(adapters) }
        }
    }

    /// The base or adapter served as `name`.
    func variant(_ name: String) -> Variant? { variants.first { $0.name == name } }

    /// Whether `name` is this model or one of its adapters.
    public func serves(_ name: String) -> Bool { variant(name) != nil }

    /// The ids of a prompt; a chat's (rendered by the template) may hold its special tokens.
    func encode(_ text: String, chat: Bool) -> [Int32] { tokenizer.encode(text, specials: chat) }

    /// One continuation of `ids` by the base or adapter `variant` (looked up once by the caller, so
    /// an adapter unloaded meanwhile still answers the request that named it), `delta` told each
    /// piece of text as it becomes final (never text that a stop string or a partly decoded
    /// character could still take back). Past `timeout` seconds it ends with finish `timeout`; if
    /// the calling task is cancelled (the client went away) it ends at the next step. `stream`
    /// picks the sampler's stream (two samples of one prompt differ by it).
    func generate(_ ids: [Int32], variant: Variant?, options: SamplingOptions, timeout: Double? = nil, stream: Int = 0,
                  delta: @escaping @Sendable (String) -> Void) async -> Generation {
        // At most about 31 years ahead, so the sum cannot overflow.
        let deadline = timeout.map { DispatchTime.now().uptimeNanoseconds &+ UInt64(Swift.min($0, 1e9) * 1e9) }
        let sent = Mutex("")  // the decoding thread alone touches it; the mutex makes that checkable
        let id = Self.requests.withLock { n in
            n += 1
            return n
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                decoder.submit(BatchDecoder.Request(ids: ids, options: options, adapters: variant?.adapters, stream: stream, deadline: deadline, id: id,
                                                    onToken: { partial in
                sent.withLock { sent in
                    let piece = Self.settled(partial.text, after: sent, stop: options.stop)
                    if !piece.isEmpty {
                        sent += piece
                        delta(piece)
                    }
                }
            }, onFinish: { result in
                sent.withLock { sent in
                    if result.text.hasPrefix(sent), result.text.count > sent.count { delta(String(result.text.dropFirst(sent.count))) }
                }
                continuation.resume(returning: result)
            }))
            }
        } onCancel: { [decoder] in
            decoder.cancel(id)
        }
    }

    /// Numbers requests for cancelling.
    static let requests = Mutex<UInt64>(0)

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
