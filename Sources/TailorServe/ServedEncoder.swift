import Dispatch
import TailorModels

/// A sentence encoder behind the server (`/v1/embeddings`): mean-pooled, unit-length vectors,
/// as `tailor embed` and `rag.index` make them, each a function of its text alone. A serial
/// queue runs one request at a time off the server's threads.
public final class ServedEncoder: @unchecked Sendable {  // the queue serialises every use of the model
    public let name: String
    let bert: Bert, tokenizer: WordPieceTokenizer
    let queue = DispatchQueue(label: "tailor.serve.encoder")

    public init(name: String, model: Bert, tokenizer: WordPieceTokenizer) {
        (self.name, bert, self.tokenizer) = (name, model, tokenizer)
    }

    var dimension: Int { bert.config.width }

    /// Each text's vector and the tokens read (texts are cut at 256 tokens, as
    /// sentence-transformers cuts them).
    func embed(_ texts: [String]) async -> (vectors: [[Float]], tokens: Int) {
        await withCheckedContinuation { continuation in
            queue.async { [self] in
                let ids = texts.map { tokenizer.encode($0, maxLength: Swift.min(256, bert.config.maxPositions)) }
                continuation.resume(returning: (bert.embeddings(ids), ids.reduce(0) { $0 + $1.count }))
            }
        }
    }
}
