import ArgumentParser
import Foundation
import TailorModels
import TailorRuntime

struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-token log-probabilities of a text under a model, and its mean loss; or a reward model's score of an answer. JSON.",
        discussion: """
            MODEL is a GGUF file, a Hugging Face folder, or a spec with --model NAME: the spec's model is built
            first (from the cache when it holds it). A reward model (`reward:` in a spec) scores --text as the
            answer to --prompt, tokenized as it was trained: {"reward": r, "tokens": n}.

            Example: tailor score models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --text "Paris is the capital of France."
            Example: tailor score specs/rlhf.yaml --model judge --prompt "4+5=" --text "9"
            """)

    @Argument(help: "A GGUF file or Hugging Face folder with a decoder model, or a spec (with --model).")
    var model: String

    @Option(name: .customLong("model"), help: "The spec's model to score with (with a spec).")
    var name: String?

    @Option(help: "The text to score (for a reward model, the answer).")
    var text: String

    @Option(help: "For a reward model: the prompt the answer answers.")
    var prompt: String = ""

    @OptionGroup var options: SpecOptions

    @Option(help: "The artifact cache folder, with a spec (default: as `tailor run`).")
    var cache: String?

    var isSpec: Bool { model.hasSuffix(".yaml") || model.hasSuffix(".yml") }

    func validate() throws {
        if isSpec, name == nil { throw ValidationError("a spec needs --model NAME: which of its models scores the text") }
        if !isSpec, name != nil || !options.sets.isEmpty || cache != nil {
            throw ValidationError("--model, --set and --cache are for a spec's model; give a spec (a .yaml file) as MODEL")
        }
    }

    struct Reward: Encodable {
        var reward: Float, tokens: Int
    }

    struct Token: Encodable {
        var id: Int32, text: String, logprob: Float?
    }

    struct Report: Encodable {
        var tokens: [Token], meanLoss: Float, perplexity: Float
        enum CodingKeys: String, CodingKey { case tokens, meanLoss = "mean_loss", perplexity }
    }

    func run() throws {
        var path = model
        if let name, isSpec {
            let (_, _, outcomes) = try Run.build(model, only: ["model.\(name)"], options: options, cache: cache,
                                                 jobs: ProcessInfo.processInfo.activeProcessorCount) { _ in }
            guard let built = outcomes.first(where: { $0.node.id == "model.\(name)" }) else { throw fail("'\(name)' is not a model of \(model)") }
            path = built.artifact.folder
        }
        if Self.isRewardModel(path) { return try scoreReward(path) }
        guard prompt.isEmpty else { throw ValidationError("--prompt is for reward models; \(model) scores the text as one sequence") }
        try scoreText(path)
    }

    /// Whether `path` is a folder `train.reward` wrote (its head.json says `kind: reward`).
    static func isRewardModel(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path + "/head.json"),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
        return json["kind"] as? String == "reward"
    }

    /// A reward model's score of the answer, tokenized as `train.reward` read its pairs: the
    /// prompt, the answer and the end of text.
    func scoreReward(_ folder: String) throws {
        let loaded = try openModel(folder)
        let (decoder, tokenizer) = try usage { try loaded.decoder() }
        guard let eos = tokenizer.eos else { throw fail("the model's tokenizer has no end-of-text token") }
        let head = try usage { try SequenceHeadModel.reward(folder: folder, backbone: decoder, padID: eos) }
        let ids = tokenizer.example(context: prompt, answer: text, eos: eos).ids
        guard ids.count <= decoder.context else {
            throw ValidationError("the prompt and answer are \(ids.count) tokens, over the model's context of \(decoder.context)")
        }
        let reward = Tensor.noGrad { head([ids]) }.item
        try printJSON(Reward(reward: reward, tokens: ids.count))
    }

    func scoreText(_ path: String) throws {
        let loaded = try openModel(path)
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
