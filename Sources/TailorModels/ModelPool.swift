import Foundation

/// Decoders read from Hugging Face folders, shared while they are only read. A base's weights
/// are loaded once (keyed by its weight file's digest) and each reader gets a view over them
/// with its own adapters attached, so scoring a base and several of its LoRA adapters reads the
/// weights once ("one base, many skills"). Whoever changes weights (training) takes a private
/// copy, which also lets go of the shared base: at most one extra copy is ever held.
public final class ModelPool: @unchecked Sendable {
    /// The pool of this process: training, evals and (later) the server use it.
    public static let shared = ModelPool()

    private let lock = NSLock()
    private var base: (digest: String, model: any CausalLM, tokenizer: BPETokenizer)?
    /// Reads that found the base already loaded (for tests and the run log).
    public private(set) var hits = 0

    public init() {}

    /// The decoder in `folder` with the adapters kept beside it, as a copy of its own to train.
    public func privateDecoder(folder: String) throws -> (any CausalLM, BPETokenizer) {
        release()
        let (model, tokenizer) = try Self.load(folder)
        try Self.attachAdapters(folder, to: model)
        return (model, tokenizer)
    }

    /// The decoder in `folder` to read only: the shared base of weight file `digest` (loaded if
    /// it is another), seen through a view that carries the folder's own adapters.
    public func sharedDecoder(folder: String, weightsDigest digest: String) throws -> (any CausalLM, BPETokenizer) {
        let shared: (any CausalLM, BPETokenizer) = try lock.withLock {
            if let base, base.digest == digest {
                hits += 1
                return (base.model, base.tokenizer)
            }
            base = nil  // the old base goes before the new one is read
            let loaded = try Self.load(folder)
            base = (digest, loaded.0, loaded.1)
            return loaded
        }
        guard let view = Self.view(shared.0) else { return try privateDecoder(folder: folder) }  // no adapters to swap
        try Self.attachAdapters(folder, to: view)
        return (view, shared.1)
    }

    /// Lets go of the shared base.
    public func release() { lock.withLock { base = nil } }

    static func load(_ folder: String) throws -> (any CausalLM, BPETokenizer) {
        let hf = try HuggingFaceFolder(path: folder)
        guard let tokenizer = try hf.bpeTokenizer() else { throw ModelFileError(folder, "has no tokenizer.json") }
        return (try hf.causalLM(), tokenizer)
    }

    /// Attaches the adapters a folder keeps beside its base weights (none: nothing changes).
    static func attachAdapters(_ folder: String, to model: any CausalLM) throws {
        guard let adaptable = model as? Adaptable else { return }
        try AdapterFiles.load(from: folder, into: adaptable)
    }

    /// Another model over the same weight tensors, without adapters (nil for architectures
    /// that take none): adapters attach to it, never to the shared base itself.
    /// Another model over the same weight tensors, without adapters (nil for an architecture that takes none).
    public static func view(_ model: any CausalLM) -> (any CausalLM)? {
        switch model {
        case let llama as Llama: llama.sharingWeights()
        case let gpt2 as GPT2: gpt2.sharingWeights()
        default: nil
        }
    }
}
