import Foundation
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

/// A spec's RAG pipeline as `tailor serve SPEC` answers with it, as `eval.rag` answers: the
/// question's `top_k` passages from the index, searched with the encoder that built it, then the
/// pipeline's prompt with `{question}` and `{context}` (the passages in rank order, a blank line
/// between them), written for the generator.
public struct ServableRAG: @unchecked Sendable {  // read-only after init; searches share nothing mutable
    let retriever: Retriever
    let prompt: Prompt
    let generator: Artifact
    public let topK: Int

    public init(index: Artifact, encoder: Artifact, generator: Artifact, prompt: Artifact, shotEncoder: Artifact?, topK: Int) throws {
        retriever = try Retriever(index: index, encoder: encoder)
        self.prompt = try PromptRunners.load(prompt, shotEncoder: shotEncoder)
        self.generator = generator
        self.topK = topK
    }

    /// The generator's prompt ids for `question` and the ids of the passages it was given.
    public func prompt(_ question: String, model: any CausalLM, tokenizer: BPETokenizer) throws -> (ids: [Int32], passages: [String]) {
        let found = retriever.search([(id: "question", text: question)], passages: topK, depth: topK)[0].passages
        let record: [String: Any] = ["question": question, "answer": "", "context": found.map(\.text).joined(separator: "\n\n")]
        let example = try EvalRunners.examples([record], for: generator, model, tokenizer, prompt: prompt, source: "the request")[0]
        return (example.context, found.map(\.id))
    }
}
