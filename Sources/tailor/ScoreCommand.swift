import ArgumentParser
import Foundation
import TailorModels
import TailorRuntime

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-token log-probabilities of a text under a model, and its mean loss, as JSON.",
        discussion: "Example: tailor score models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --text \"Paris is the capital of France.\"")

    @Argument(help: "A GGUF file with a decoder model.")
    var model: String

    @Option(help: "The text to score.")
    var text: String

    struct Token: Encodable {
        var id: Int32, text: String, logprob: Float?
    }

    struct Report: Encodable {
        var tokens: [Token], meanLoss: Float, perplexity: Float
        enum CodingKeys: String, CodingKey { case tokens, meanLoss = "mean_loss", perplexity }
    }

    func run() throws {
        let loaded = try openModel(model)
        let (network, tokenizer) = try usage { try loaded.decoder() }
        let ids = tokenizer.encode(text)
        guard ids.count >= 2 else { throw ValidationError("the text must be at least 2 tokens long to score (it is \(ids.count))") }
        guard ids.count <= network.context else { throw ValidationError("the text is \(ids.count) tokens, over the model's context of \(network.context)") }
        let logprobs = Tensor.noGrad { network.logits(ids, batch: 1, cache: nil, keyStart: nil, lastOnly: false).reshaped([ids.count, -1]).logSoftmax() }.contiguous()
        let v = network.vocab
        var tokens: [Token] = [], total: Float = 0
        for (i, id) in ids.enumerated() {
            let lp: Float? = i == 0 ? nil : logprobs.pointer[(i - 1) * v + Int(id)]
            total -= lp ?? 0
            tokens.append(Token(id: id, text: tokenizer.decode([id]), logprob: lp))
        }
        let mean = total / Float(ids.count - 1)
        try printJSON(Report(tokens: tokens, meanLoss: mean, perplexity: Foundation.exp(mean)))
    }
}
