import Foundation
import TailorModels
import TailorRuntime

/// model.init, and reading and writing model artifacts (Hugging Face folders with the
/// tokenizer inside, so `tailor generate` and transformers can open an artifact directly).
enum ModelRunners {
    static func initialise(_ ctx: NodeContext) throws {
        let arch = ctx.params["arch"]?.string ?? ""
        guard arch == "gpt2" else { throw ExecutionError("initialising a '\(arch)' model is not yet executable (gpt2 is)") }
        let tokenizerArtifact = try ctx.artifact(holding: "tokenizer.json")
        let tokenizer = try TokenizerRunners.load(tokenizerArtifact)
        let size = ctx.params["size"]
        let width = size?["width"]?.int ?? 128, heads = size?["heads"]?.int ?? 4
        if let mlp = size?["mlp"]?.int, mlp != 4 * width {
            throw ExecutionError("'\(ctx.node.id)': a gpt2 MLP is 4 × width (\(4 * width)), not \(mlp)")
        }
        let config = GPT2Config(vocab: tokenizer.count, context: size?["context"]?.int ?? 256, width: width,
                                layers: size?["layers"]?.int ?? 4, heads: heads)
        let std = Float(ctx.params["init"]?["std"]?.number ?? 0.02)
        try save(GPT2(config: config, seed: ctx.seed, std: std), tokenizer: tokenizer, into: ctx.output)
    }

    /// Writes a model and its tokenizer as flat files into `folder`.
    static func save(_ model: any CausalLM, tokenizer: BPETokenizer, into folder: String) throws {
        let staging = folder + "/.model"
        do {
            switch model {
            case let gpt2 as GPT2: try HuggingFaceFolder.save(gpt2, to: staging, tokenizer: tokenizer)
            case let llama as Llama: try HuggingFaceFolder.save(llama, to: staging, tokenizer: tokenizer)
            default: throw ExecutionError("this architecture cannot be saved yet")
            }
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: staging) { try fm.moveItem(atPath: staging + "/" + name, toPath: folder + "/" + name) }
        try fm.removeItem(atPath: staging)
    }

    /// The decoder and tokenizer of a model artifact.
    static func load(_ artifact: Artifact) throws -> (any CausalLM, BPETokenizer) {
        do {
            let folder = try HuggingFaceFolder(path: artifact.folder)
            guard let tokenizer = try folder.bpeTokenizer() else { throw ExecutionError("the model artifact \(artifact.key) has no tokenizer") }
            return (try folder.causalLM(), tokenizer)
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }
}
