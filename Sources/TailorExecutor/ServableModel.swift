import TailorEngine
import TailorModels

/// A run's model artifact, as `tailor serve SPEC` serves it: the decoder with its adapters
/// applied, as evals read it, its tokenizer, and the chat template it writes chats with (the
/// plain `Role: text` layout for a model without one).
public enum ServableModel {
    public static func decoder(_ artifact: Artifact) throws -> (model: any CausalLM, tokenizer: BPETokenizer, template: ChatTemplate) {
        let (model, tokenizer) = try ModelRunners.loadForEvaluation(artifact)
        return (model, tokenizer, try ArtifactTokenizer.chatTemplate(artifact) ?? .plain)
    }
}
