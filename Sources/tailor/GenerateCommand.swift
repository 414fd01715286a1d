import ArgumentParser
import Foundation
import Synchronization
import TailorModels

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a model; prints only the generated text.",
        discussion: """
            Example: tailor generate models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --chat \\
                       --prompt "Name the capital of France."
            """)

    @Argument(help: "A GGUF file with a decoder model.")
    var model: String

    @Option(help: "The prompt (repeat for a batch).")
    var prompt: [String] = []

    @Flag(help: "Wrap the prompt in the model's chat template (with its default system prompt).")
    var chat = false

    @Option(help: "System prompt for --chat, instead of the template's default.")
    var system: String?

    @Option(parsing: .unconditional, help: "Most tokens to generate.")
    var maxTokens = 128

    @Option(parsing: .unconditional, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(parsing: .unconditional, help: "Sample among the K most likely tokens (0: all).")
    var topK = 0

    @Option(parsing: .unconditional, help: "Sample from the smallest set of tokens whose probability reaches P.")
    var topP: Float = 1

    @Option(parsing: .unconditional, help: "Seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "Stop before this string (repeatable).")
    var stop: [String] = []

    @Flag(help: "Print timings (prompt and decode tokens/s, load time) to stderr.")
    var timings = false

    @Flag(help: "Keep generating past the end-of-text token (for benchmarks).")
    var ignoreEOS = false

    func validate() throws {
        if prompt.isEmpty { throw ValidationError("give a prompt with --prompt") }
        if maxTokens < 0 { throw ValidationError("--max-tokens must be 0 or more") }
        if !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be a number, 0 or more (got \(temperature))") }
        if topK < 0 { throw ValidationError("--top-k must be 0 or more") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let loaded = try openModel(model)
        let (network, tokenizer) = try usage { try loaded.decoding() }
        let template = chat ? try loaded.chatTemplate() : nil  // parsed once for every prompt
        let texts = try prompt.map { try template?.render(prompt: $0, system: system) ?? $0 }
        let ids = texts.map { tokenizer.encode($0) }
        if let empty = ids.firstIndex(where: \.isEmpty) {
            throw ValidationError("prompt \(empty + 1) is empty")
        }
        let longest = ids.map(\.count).max()!
        if longest + maxTokens > network.context {
            throw ValidationError("the prompt (\(longest) tokens) plus --max-tokens \(maxTokens) exceed the model's context of \(network.context)")
        }
        let options = SamplingOptions(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, seed: seed, stop: stop,
                                      ignoreEndOfText: ignoreEOS)
        // Every prompt decodes in the same steps; each prompt's text is what it gets alone.
        let decoder = BatchDecoder(model: network, tokenizer: tokenizer, maxSequences: ids.count)
        let finished = Mutex([Generation?](repeating: nil, count: ids.count))
        var clock = GenerationTimings()
        decoder.run(ids.enumerated().map { i, prompt in
            BatchDecoder.Request(ids: prompt, options: options, stream: i) { r in finished.withLock { $0[i] = r } }
        }, timings: &clock)
        let results = finished.withLock { $0 }.map { $0! }
        // Written unbuffered, so text and the timings on stderr come out in order.
        for (i, r) in results.enumerated() {
            FileHandle.standardOutput.write(Data(((results.count > 1 ? "--- \(i + 1)\n" : "") + r.text + "\n").utf8))
        }
        if timings {
            let line = String(format: "load %.2f s; prompt %d tokens in %.3f s (%.1f tokens/s); decode %d steps in %.3f s (%.1f steps/s, batch %d)\n",
                              loaded.loadSeconds, clock.promptTokens, clock.promptSeconds, clock.promptTokensPerSecond,
                              clock.decodeSteps, clock.decodeSeconds, clock.decodeStepsPerSecond, ids.count)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
