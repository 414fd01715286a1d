import Foundation
import TailorEngine
import TailorPlan
import TailorModels
import TailorRuntime

/// export.model: a Hugging Face folder (adapters merged into the weights with `merge: true`,
/// else kept beside them; F32, F16 or BF16) or a LoRA adapter alone in PEFT's layout. The run
/// record gets a copy under `exports/`.
enum ExportRunners {
    static func export(_ ctx: NodeContext) throws {
        let source = try ctx.input(.model).artifact
        let (model, tokenizer) = try ModelRunners.load(source)
        let p = try ctx.parameters(ExportParameters.self)
        let (dtypeName, merge, format) = (p.dtype, p.merge, p.format)
        let dtype: DType = ["f16": .f16, "bf16": .bf16][dtypeName] ?? .f32
        let staging = ctx.output + "/.export"
        do {
            switch format {
            case "peft":
                // The checker refuses both: a PEFT adapter is the unmerged adapter, in float32.
                guard !merge, dtypeName == "f32" else {
                    throw ExecutionError.peftAsTrained
                }
                guard let adaptable = model as? Adaptable, !adaptable.adapters.isEmpty else {
                    throw ExecutionError.noAdaptersToExport
                }
                try PEFTAdapter.save(adaptable, to: staging)
            case "hf":
                if merge, let adaptable = model as? Adaptable { adaptable.mergeAdapters() }
                switch model {
                case let gpt2 as GPT2:
                    try HuggingFaceFolder.save(gpt2, to: staging, tokenizer: tokenizer, chatTemplate: ArtifactTokenizer.chatTemplateSource(source), dtype: dtype)
                case let llama as Llama:
                    try HuggingFaceFolder.save(llama, to: staging, tokenizer: tokenizer, chatTemplate: ArtifactTokenizer.chatTemplateSource(source), dtype: dtype)
                default: throw ExecutionError.cannotExport
                }
                if let adaptable = model as? Adaptable { try AdapterFiles.save(adaptable.adapters, to: staging) }
            default:
                throw ExecutionError.exportNotYet(format)
            }
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
        try moveUp(staging, into: ctx.output)
        try JSONText.render(["format": format, "model": try ctx.input(.model).input.node] as [String: Any])
            .write(toFile: ctx.out("export.json"), atomically: false, encoding: .utf8)
    }
}

extension ExportRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.exportModel: export]

    static func refusal(_ node: PlanNode) -> String? {
        (try? ExportParameters(plan: node.params))?.format == "gguf" ? "exporting as 'gguf' is not yet executable (hf and peft are)" : nil
    }
}
