import Dispatch
import TailorRuntime

/// One generated continuation.
public struct Generation: Sendable, Equatable {
    /// `timeout`: a server's per-request time limit ended it; `cancelled`: its caller went away.
    public enum Finish: String, Sendable { case endOfText = "end_of_text", stop, length, timeout, cancelled }
    /// Generated token ids (an end-of-generation token included when one ended it).
    public var ids: [Int32]
    /// The generated text, without the end-of-generation token and cut before a stop string.
    public var text: String
    public var finish: Finish
}

/// Where generation spent its time: the batched prompt pass and the one-token steps.
public struct GenerationTimings: Sendable {
    public var promptTokens = 0
    public var promptSeconds = 0.0
    /// Decoding steps run after the prompt pass (each computes one token per running sequence).
    public var decodeSteps = 0
    public var decodeSeconds = 0.0

    public init() {}

    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    public var decodeStepsPerSecond: Double { decodeSeconds > 0 ? Double(decodeSteps) / decodeSeconds : 0 }
}

/// Text generation with a KV cache: the prompts are processed in one batched pass
/// (left-padded to the longest, the padding masked), then one token per step for every
/// sequence still running.
public struct Generator {
    public let model: any CausalLM
    public let tokenizer: BPETokenizer

    public init(model: any CausalLM, tokenizer: BPETokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    public func generate(_ prompts: [String], options: SamplingOptions) -> [Generation] {
        generate(ids: prompts.map { tokenizer.encode($0) }, options: options)
    }

    public func generate(ids prompts: [[Int32]], options: SamplingOptions) -> [Generation] {
        var timings = GenerationTimings()
        return generate(ids: prompts, options: options, timings: &timings)
    }

    /// Continues each prompt (token ids, at least one each), recording where time went;
    /// `step` sees the continuations after each token (a server streams them).
    public func generate(ids prompts: [[Int32]], options: SamplingOptions, timings: inout GenerationTimings,
                         step onStep: ([Generation]) -> Void = { _ in }) -> [Generation] {
        precondition(!prompts.isEmpty && prompts.allSatisfy { !$0.isEmpty }, "generate needs non-empty prompts")
        let batch = prompts.count, longest = prompts.map(\.count).max()!
        let pad = tokenizer.eos ?? 0
        let keyStart = prompts.map { longest - $0.count }
        let capacity = longest + Swift.max(0, options.maxTokens)
        var states = prompts.map { _ in GenerationState() }
        guard options.maxTokens > 0 else { return states.map(\.result) }
        let clock = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
        var t0 = clock()
        timings.promptTokens += prompts.reduce(0) { $0 + $1.count }
        return Tensor.noGrad {
            let cache = model.makeCache(batch: batch, capacity: capacity)
            let padded = zip(prompts, keyStart).flatMap { Array(repeating: pad, count: $1) + $0 }
            var logits = model.logits(padded, batch: batch, cache: cache, keyStart: keyStart, lastOnly: true)  // (B, 1, V)
            timings.promptSeconds += clock() - t0
            t0 = clock()
            defer { timings.decodeSeconds += clock() - t0 }
            let v = model.vocab
            for step in 0..<options.maxTokens {
                var next = [Int32](repeating: pad, count: batch)
                for b in 0..<batch where states[b].running {
                    let token = withExtendedLifetime(logits) { Sampler.pick(logits.pointer + b * v, v, options, sequence: b, step: step) }
                    next[b] = token
                    states[b].add(token, tokenizer: tokenizer, options: options)
                }
                onStep(states.map(\.result))
                if !states.contains(where: \.running) || step == options.maxTokens - 1 { break }
                logits = model.logits(next, batch: batch, cache: cache, keyStart: keyStart, lastOnly: true)
                timings.decodeSteps += 1
            }
            return states.map(\.result)
        }
    }
}

/// One sequence's continuation as its tokens arrive: the ids, the text, and why it ended.
struct GenerationState {
    var result = Generation(ids: [], text: "", finish: .length)
    var running = true

    /// Takes one sampled token: an end-of-generation token or a stop string ends the sequence,
    /// and so does reaching `maxTokens` (finish `length`).
    mutating func add(_ token: Int32, tokenizer: BPETokenizer, options: SamplingOptions) {
        result.ids.append(token)
        if !options.ignoreEndOfText, tokenizer.endOfGeneration.contains(token) {
            running = false
            result.finish = .endOfText
            result.text = tokenizer.decode(result.ids.dropLast())
            return
        }
        let text = tokenizer.decode(result.ids)
        result.text = text
        if let cut = options.stop.compactMap({ text.range(of: $0)?.lowerBound }).min() {
            running = false
            result.finish = .stop
            result.text = String(text[..<cut])
        } else if result.ids.count >= options.maxTokens {
            running = false
        }
    }
}
