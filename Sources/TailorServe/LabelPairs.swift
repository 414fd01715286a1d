import Foundation
import TailorModels
import TailorRuntime

/// One pair to label: a prompt and two answers in the order the page shows them, with where each
/// answer came from when a model wrote it.
public struct LabelPair: Sendable {
    public let id: String, prompt: String
    public let left: String, right: String
    public let leftSource: String?, rightSource: String?

    /// The answers in their given order, shown swapped for about half the pairs (by the id's
    /// hash, so a restart shows each pair as before): the first answer is not always on the left.
    init(id: String, prompt: String, answers: (String, String), sources: (String, String)? = nil) {
        self.id = id
        self.prompt = prompt
        let swap = Philox.stream(named: id) & 1 == 1
        (left, right) = swap ? (answers.1, answers.0) : (answers.0, answers.1)
        (leftSource, rightSource) = sources.map { swap ? ($0.1, $0.0) : ($0.0, $0.1) } ?? (nil, nil)
    }
}

/// Where the pairs come from.
public protocol PairSource: Sendable {
    /// Every pair's id, in labelling order (known before any answer is written).
    var ids: [String] { get }
    func pair(_ index: Int) async throws -> LabelPair
}

/// Pairs read from a JSON Lines file: `{"prompt": ..., "responses": [A, B]}` a line, with an
/// optional `id` (else `line-N`).
public struct FilePairs: PairSource {
    let pairs: [LabelPair]
    public var ids: [String] { pairs.map(\.id) }

    public init(path: String) throws {
        var pairs: [LabelPair] = [], problems: [String: (first: Int, count: Int)] = [:]
        func problem(_ what: String, _ line: Int) { problems[what] = (problems[what]?.first ?? line, (problems[what]?.count ?? 0) + 1) }
        var seen = Set<String>()
        for (n, object) in try jsonLines(path) {
            guard let record = object else {
                problem("not a JSON object", n + 1)
                continue
            }
            guard let prompt = record["prompt"] as? String, let responses = record["responses"] as? [String], responses.count == 2 else {
                problem("lacks a text 'prompt' and 'responses' (a list of two texts)", n + 1)
                continue
            }
            guard responses[0] != responses[1] else {
                problem("has two identical responses (nothing to prefer)", n + 1)
                continue
            }
            let id = record["id"] as? String ?? "line-\(n + 1)"
            guard seen.insert(id).inserted else {
                problem("repeats an earlier line's id", n + 1)
                continue
            }
            pairs.append(LabelPair(id: id, prompt: prompt, answers: (responses[0], responses[1])))
        }
        guard problems.isEmpty else {
            throw LabelError(problems.sorted { $0.value.first < $1.value.first }
                .map { "\(path):\($0.value.first): \($0.key) (\($0.value.count == 1 ? "1 line" : "\($0.value.count) lines, the first here"))" }
                .joined(separator: "\n"))
        }
        guard !pairs.isEmpty else { throw LabelError("\(path) holds no pairs") }
        self.pairs = pairs
    }

    public func pair(_ index: Int) async throws -> LabelPair { pairs[index] }
}

/// The lines of a JSON Lines file that are not blank, numbered from 0, each as a JSON object or
/// nil for one that is not.
func jsonLines(_ path: String) throws -> [(Int, [String: Any]?)] {
    guard let data = FileManager.default.contents(atPath: path) else { throw LabelError("cannot read \(path)") }
    return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        .filter { !$0.element.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
        .map { ($0.offset, try? JSONSerialization.jsonObject(with: Data($0.element)) as? [String: Any]) }
}

/// Pairs a model writes: each prompt answered twice in the same decoding steps, by two of the
/// served names (the base or adapters), or twice by one with different samples. A pair's answers
/// depend only on its index and the seed, so a restart shows the same pair again.
public final class SampledPairs: PairSource {
    let model: ServedModel
    let prompts: [String]
    let sides: (String, String)
    let variants: (ServedModel.Variant, ServedModel.Variant)
    let options: SamplingOptions
    public var ids: [String] { prompts.indices.map { "prompt-\($0 + 1)" } }

    /// `sides`: the two served names that answer (the same twice samples one model twice).
    public init(model: ServedModel, prompts: [String], sides: (String, String), options: SamplingOptions) throws {
        guard let first = model.variant(sides.0), let second = model.variant(sides.1) else {
            throw LabelError("'\(sides.0)' and '\(sides.1)' must be served names")
        }
        (self.model, self.prompts, self.sides, self.options, variants) = (model, prompts, sides, options, (first, second))
    }

    /// The `prompt` of every line of a JSON Lines file, for a model to answer.
    public static func prompts(_ path: String) throws -> [String] {
        var prompts: [String] = [], bad: [Int] = []
        for (n, object) in try jsonLines(path) {
            if let prompt = object?["prompt"] as? String, !prompt.isEmpty { prompts.append(prompt) } else { bad.append(n + 1) }
        }
        if let first = bad.first {
            throw LabelError("\(path):\(first): not a JSON object with a text 'prompt' (\(bad.count == 1 ? "1 line" : "\(bad.count) lines, the first here"))")
        }
        guard !prompts.isEmpty else { throw LabelError("\(path) holds no prompts") }
        return prompts
    }

    public func pair(_ index: Int) async throws -> LabelPair {
        let prompt = prompts[index]
        let text = try model.template.render(prompt: prompt)
        let ids = model.encode(text, chat: true)
        guard ids.count < model.context else { throw LabelError("prompt \(index + 1) is longer than the model's context") }
        var options = self.options
        options.seed &+= UInt64(index)
        options.maxTokens = Swift.min(options.maxTokens, model.context - ids.count)
        async let a = model.generate(ids, variant: variants.0, options: options, stream: 0) { _ in }
        async let b = model.generate(ids, variant: variants.1, options: options, stream: 1) { _ in }
        let (first, second) = await (a, b)
        return LabelPair(id: "prompt-\(index + 1)", prompt: prompt, answers: (first.text, second.text), sources: sides)
    }
}
