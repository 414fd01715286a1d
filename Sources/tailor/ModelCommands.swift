import ArgumentParser
import Foundation
import TailorModels
import TailorRuntime

/// Runs `body`; a model of the wrong kind for the command is a usage error (exit 2).
func usage<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ModelFileError {
        throw ValidationError(error.description)
    }
}

/// Opens MODEL or exits 1 with the file's problem in plain words.
func openModel(_ path: String) throws -> LoadedModel {
    do {
        return try LoadedModel.open(path)
    } catch let error as ModelFileError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw ExitCode(1)
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model file's architecture, parameter count, tensors and tokenizer.",
        discussion: "Example: tailor inspect models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")

    @Argument(help: "A GGUF file or a Hugging Face model folder.")
    var model: String

    @Flag(help: "List every tensor.")
    var tensors = false

    func run() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
            return try inspectFolder()
        }
        let file: GGUFFile
        do {
            file = try GGUFFile(path: model)
        } catch let error as ModelFileError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        print("file: \(model) (GGUF v\(file.version))")
        if let name = file.string("general.name") { print("name: \(name)") }
        print("architecture: \(file.architecture ?? "unknown")")
        if let config = try? file.llamaConfig() {
            print("config: \(config.layers) layers, width \(config.width), \(config.heads) heads (\(config.kvHeads) key/value), "
                  + "MLP \(config.ffn), vocab \(config.vocab), context \(config.context), RoPE base \(config.ropeBase), "
                  + (config.tiedHead ? "tied head" : "untied head"))
        }
        let count = file.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let types = Dictionary(grouping: file.tensors, by: \.type.name).map { "\($0.key) ×\($0.value.count)" }.sorted()
        print("parameters: \(count) in \(file.tensors.count) tensors (\(types.joined(separator: ", ")))")
        do {
            let tokenizer = try file.bpeTokenizer()
            print("tokenizer: byte-level BPE, \(tokenizer.count) tokens, pre-tokenizer \(tokenizer.preTokenizer.rawValue), "
                  + "\(tokenizer.specialTokens.count) special tokens" + (tokenizer.eos.map { ", EOS \(tokenizer.vocabulary[Int($0)])" } ?? ""))
        } catch {
            print("tokenizer: none usable (\(error))")
        }
        switch ChatTemplate(jinja: file.string("tokenizer.chat_template")) {
        case .chatML(let system): print("chat template: ChatML" + (system.map { " (default system prompt: \"\($0)\")" } ?? ""))
        case .plain: print("chat template: plain")
        }
        if tensors {
            for t in file.tensors { print("  \(t.name) \(t.shape) \(t.type.name)") }
        }
    }

    func inspectFolder() throws {
        let loaded = try openModel(model)
        print("folder: \(model) (Hugging Face)")
        if case .decoder(let network, let tokenizer) = loaded.network {
            switch network {
            case let gpt2 as GPT2:
                let c = gpt2.config
                print("architecture: gpt2 (decoder)")
                print("config: \(c.layers) layers, width \(c.width), \(c.heads) heads, vocab \(c.vocab), context \(c.context), tied head")
                print("parameters: \(gpt2.namedParameters.reduce(0) { $0 + $1.1.count })")
            case let llama as Llama:
                let c = llama.config
                print("architecture: llama (decoder)")
                print("config: \(c.layers) layers, width \(c.width), \(c.heads) heads (\(c.kvHeads) key/value), MLP \(c.ffn), "
                      + "vocab \(c.vocab), context \(c.context), RoPE base \(c.ropeBase), " + (c.tiedHead ? "tied head" : "untied head"))
                print("parameters: \(llama.namedParameters.reduce(0) { $0 + $1.1.count })")
            default:
                print("architecture: decoder")
            }
            print("tokenizer: " + (tokenizer.map { "byte-level BPE, \($0.count) tokens, pre-tokenizer \($0.preTokenizer.rawValue)" } ?? "none (no tokenizer.json)"))
            return
        }
        let (bert, tokenizer) = try loaded.encoder()
        let c = bert.config
        print("architecture: bert (encoder)")
        print("config: \(c.layers) layers, width \(c.width), \(c.heads) heads, MLP \(c.ffn), vocab \(c.vocab), positions \(c.maxPositions)")
        let params = [bert.wordEmbed, bert.positionEmbed, bert.typeEmbed].reduce(0) { $0 + $1.count }
            + bert.layers.reduce(0) { total, l in
                total + [l.q, l.k, l.v, l.o, l.up, l.down].reduce(0) { $0 + $1.weight.count + ($1.bias?.count ?? 0) } + 4 * c.width
            } + 2 * c.width
        print("parameters: \(params)")
        print("tokenizer: WordPiece, \(tokenizer.count) tokens, " + (tokenizer.lowercase ? "lower case" : "cased"))
        if tensors {
            for name in try HuggingFaceFolder(path: model).weights().keys.sorted() { print("  \(name)") }
        }
    }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate text from a model; prints only the generated text.",
        discussion: """
            Example: tailor generate models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --chat \\
                       --prompt "What is the capital of France?"
            """)

    @Argument(help: "A GGUF file with a decoder model.")
    var model: String

    @Option(help: "The prompt (repeat for a batch).")
    var prompt: [String] = []

    @Flag(help: "Wrap the prompt in the model's chat template (with its default system prompt).")
    var chat = false

    @Option(help: "System prompt for --chat, instead of the template's default.")
    var system: String?

    @Option(help: "Most tokens to generate.")
    var maxTokens = 128

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Sample among the K most likely tokens (0: all).")
    var topK = 0

    @Option(help: "Sample from the smallest set of tokens whose probability reaches P.")
    var topP: Float = 1

    @Option(help: "Seed for sampling.")
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
        if temperature < 0 { throw ValidationError("--temperature must be 0 or more") }
        if topK < 0 { throw ValidationError("--top-k must be 0 or more") }
        if !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let loaded = try openModel(model)
        let (network, tokenizer) = try usage { try loaded.decoder() }
        let texts = prompt.map { chat ? loaded.chatTemplate.render(prompt: $0, system: system) : $0 }
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
        let generator = Generator(model: network, tokenizer: tokenizer)
        var clock = GenerationTimings()
        let results = generator.generate(ids: ids, options: options, timings: &clock)
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

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sentence embeddings (mean-pooled, unit length) from an encoder, as JSON.",
        discussion: "Example: tailor embed models/all-MiniLM-L6-v2 --text \"A man is playing a guitar.\"")

    @Argument(help: "A Hugging Face folder with a BERT sentence encoder.")
    var model: String

    @Option(help: "A text to embed (repeat for several).")
    var text: [String] = []

    func validate() throws {
        if text.isEmpty { throw ValidationError("give a text with --text") }
    }

    struct Item: Encodable {
        var text: String, embedding: [Float]
    }

    func run() throws {
        let loaded = try openModel(model)
        let (network, tokenizer) = try usage { try loaded.encoder() }
        let vectors = network.embeddings(text.map { tokenizer.encode($0, maxLength: 256) })
        try printJSON(zip(text, vectors).map { Item(text: $0, embedding: $1) })
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a decoder (GGUF file or Hugging Face folder) as a Hugging Face folder, float32.",
        discussion: """
            The folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json) loads in
            Hugging Face transformers. GGUF's interleaved Q/K layout is permuted back on the way.

            Example: tailor convert models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf /tmp/smollm2-hf
            """)

    @Argument(help: "A GGUF file or Hugging Face folder with a decoder.")
    var model: String

    @Argument(help: "The folder to write (replaced if it exists).")
    var output: String

    func run() throws {
        let loaded = try openModel(model)
        guard case .decoder(let network, let tokenizer) = loaded.network else {
            throw ValidationError("\(model) is an encoder; convert writes decoders")
        }
        do {
            switch network {
            case let gpt2 as GPT2: try HuggingFaceFolder.save(gpt2, to: output, tokenizer: tokenizer)
            case let llama as Llama: try HuggingFaceFolder.save(llama, to: output, tokenizer: tokenizer, chatTemplate: loaded.chatTemplateSource)
            default: throw ValidationError("\(model): this architecture cannot be written yet")
            }
        } catch let error as ModelFileError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        print("wrote \(output)")
    }
}
