import Foundation
import TailorEngine
import TailorPlan
import TailorDiagnostics
import TailorModels
import TailorRuntime

/// model.init, and reading and writing model artifacts (Hugging Face folders with the
/// tokenizer inside, so `tailor generate` and transformers can open an artifact directly).
enum ModelRunners {
    static func initialise(_ ctx: NodeContext) throws {
        let p = try ctx.parameters(ModelInitParameters.self)
        if p.arch == "bert" { return try HeadRunners.initialiseEncoder(ctx) }  // BPE or WordPiece
        let tokenizerArtifact = try ctx.input(.tokenizer).artifact
        let tokenizer = try TokenizerRunners.load(tokenizerArtifact)
        // A tokenizer from a model brings its chat template: the new model is prompted as its
        // training data is tokenized.
        let chatTemplate = ArtifactTokenizer.chatTemplateSource(tokenizerArtifact)
        let (width, heads, layers, context, std) = (p.width, p.heads, p.layers, p.context, Float(p.std))
        switch p.arch {
        case "gpt2":
            if let mlp = p.mlp, mlp != 4 * width {
                throw ExecutionError.gpt2MLP(width: width, mlp)
            }
            if let kv = p.kvHeads, kv != heads {
                throw ExecutionError.keyValueHeads("gpt2", heads: heads, kv)
            }
            let config = GPT2Config(vocab: tokenizer.count, context: context, width: width, layers: layers, heads: heads)
            try save(GPT2(config: config, seed: ctx.seed, std: std), tokenizer: tokenizer, into: ctx.output, chatTemplate: chatTemplate)
        case "llama":
            guard let kvHeads = p.kvHeads, let mlp = p.mlp else { throw ParameterError(path: "size") }  // the planner fills llama's defaults
            let config = LlamaConfig(vocab: tokenizer.count, width: width, layers: layers, heads: heads,
                                     kvHeads: kvHeads, ffn: mlp, context: context)
            try save(Llama(config: config, seed: ctx.seed, std: std), tokenizer: tokenizer, into: ctx.output, chatTemplate: chatTemplate)
        default:
            throw ExecutionError.initNotYet(p.arch)
        }
    }

    /// model.load: a GGUF file or Hugging Face folder, stored as a float32 Hugging Face folder
    /// artifact with its tokenizer (GGUF's Q/K layout permuted back on the way). A BERT
    /// encoder keeps its WordPiece tokenizer files as they are.
    static func load(_ ctx: NodeContext) throws {
        let file = ctx.node.files.first ?? ""
        let path = ctx.resolve(file)
        // The format the plan read from the path: a `.gguf` file, or a Hugging Face folder.
        switch (try ctx.parameters(ModelLoadParameters.self).format, FileProbe.kind(path)) {
        case ("gguf", .folder): throw ExecutionError.ggufIsFolder(file)
        case ("hf", .file): throw ExecutionError.hfIsFile(file)
        default: break
        }
        do {
            let loaded = try LoadedModel.open(path)
            switch loaded.backbone {
            case .decoder(let model):
                guard let tokenizer = loaded.bpe else { throw ExecutionError.noTokenizerJSON(file) }
                try save(model, tokenizer: tokenizer, into: ctx.output, chatTemplate: loaded.chatTemplateSource)
            case .encoder(let bert):
                guard FileManager.default.fileExists(atPath: path + "/tokenizer.json") else {
                    throw ExecutionError.onlyVocabTxt(file)
                }
                try HeadRunners.save(bert, tokenizerFrom: path, into: ctx.output)
            }
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// Writes a model and its tokenizer as flat files into `folder`.
    static func save(_ model: any CausalLM, tokenizer: BPETokenizer, into folder: String, chatTemplate: String? = nil) throws {
        let staging = folder + "/.model"
        do {
            switch model {
            case let gpt2 as GPT2: try HuggingFaceFolder.save(gpt2, to: staging, tokenizer: tokenizer, chatTemplate: chatTemplate)
            case let llama as Llama: try HuggingFaceFolder.save(llama, to: staging, tokenizer: tokenizer, chatTemplate: chatTemplate)
            default: throw ExecutionError.cannotSave
            }
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
        try moveUp(staging, into: folder)
        if let adaptable = model as? Adaptable { try AdapterFiles.save(adaptable.adapters, to: folder) }
    }

    /// The decoder and tokenizer of a model artifact, with its adapters, as a copy of its own
    /// (a node may change its weights); the pool lets go of the base evaluations share.
    static func load(_ artifact: Artifact) throws -> (any CausalLM, BPETokenizer) {
        do {
            return try ModelPool.shared.privateDecoder(folder: artifact.folder)
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// The decoder of a model artifact for evaluation, its base weights shared with earlier
    /// evaluations: a LoRA artifact keeps its base's weight file unchanged (the same digest), so
    /// evaluating a base and several of its adapters loads the weights once. Only for nodes that
    /// never change weights.
    static func loadForEvaluation(_ artifact: Artifact) throws -> (any CausalLM, BPETokenizer) {
        guard let digest = artifact.files["model.safetensors"] else { return try load(artifact) }
        do {
            return try ModelPool.shared.sharedDecoder(folder: artifact.folder, weightsDigest: digest)
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }
}

extension ModelRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.modelInit: initialise, .modelLoad: load]
}
