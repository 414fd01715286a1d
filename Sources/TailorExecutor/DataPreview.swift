import Foundation
import TailorEngine
import TailorModels
import TailorTraining
import TailorPlan

/// What training sees of a tokenized dataset: a few examples token by token, each marked
/// as learned (a target of the loss) or context, so a wrong template or mask shows before
/// any compute is spent (`tailor plan --explain-data`).
public struct DataPreview: Sendable {
    public struct Token: Sendable, Equatable {
        public let id: Int32
        public let text: String
        /// Whether training computes the loss on this token.
        public let learned: Bool
    }

    /// The data.tokenize node.
    public let node: String
    /// The training nodes that read it, and whether one of them learns prompts too.
    public let readers: [String]
    public let trainsOnInputs: Bool
    public let rows: Int
    public let tokens: Int
    public let learnedTokens: Int
    public let examples: [[Token]]

    /// Previews every data.tokenize node among `outcomes` (which must include its tokenizer).
    public static func all(_ outcomes: [Executor.Outcome], plan: Plan, examples: Int) throws -> [DataPreview] {
        let byID = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.node.id, $0) })
        return try outcomes.filter { $0.node.kind == .dataTokenize }.map { outcome in
            guard let tokenizerID = outcome.node.inputs.first(where: { $0.role == .tokenizer })?.node,
                  let tokenizerArtifact = byID[tokenizerID]?.artifact else {
                throw ExecutionError.noTokenizerInput(outcome.node.id)
            }
            let tokenizer = try ArtifactTokenizer.load(tokenizerArtifact)
            let arrays = try TokenArrays.read(outcome.artifact.path("tokens.bin"))
            let readers = plan.nodes.filter { $0.kind.trains && $0.inputs.contains { $0.node == outcome.node.id } }
            let onInputs = readers.contains { node in node.params["train"].flatMap { try? TrainParameters(Params($0)) }?.trainOnInputs == true }
            return DataPreview(node: outcome.node.id, arrays: arrays, tokenizer: tokenizer, readers: readers.map(\.id),
                               trainsOnInputs: onInputs, examples: examples)
        }
    }

    /// Token j of an example is learned when it is the target of position j − 1: every token
    /// after the first whose mask is 1, or every token after the first with `trainsOnInputs`.
    init(node: String, arrays: TokenArrays, tokenizer: TextTokenizer, readers: [String], trainsOnInputs: Bool, examples: Int) {
        self.node = node
        self.readers = readers
        self.trainsOnInputs = trainsOnInputs
        rows = arrays.count
        tokens = arrays.ids.count
        var learned = 0
        for i in 0..<arrays.count {
            let mask = arrays.sequence(i).mask
            learned += mask.dropFirst().filter { trainsOnInputs || $0 == 1 }.count
        }
        learnedTokens = learned
        self.examples = (0..<Swift.min(examples, arrays.count)).map { i in
            let (ids, mask) = arrays.sequence(i)
            return zip(ids, mask).enumerated().map { j, pair in
                Token(id: pair.0, text: tokenizer.piece(pair.0), learned: j > 0 && (trainsOnInputs || pair.1 == 1))
            }
        }
    }

    /// Plain text: each example with learned spans inside «…», then its tokens one by one,
    /// space-separated (`·` for a space in a token, `⏎` for a newline).
    public var text: String {
        let share = tokens > 0 ? 100 * Double(learnedTokens) / Double(tokens) : 0
        var out = "\(node): \(rows) examples, \(tokens) tokens, loss on \(learnedTokens) (\(String(format: "%.1f", share))%)"
        out += readers.isEmpty ? " — no training node reads it\n" : " — read by \(readers.joined(separator: ", "))"
            + (trainsOnInputs ? " (train_on_inputs: every token after the first is learned)" : "") + "\n"
        for (n, example) in examples.enumerated() {
            out += "  example \(n + 1): \(example.count) tokens, \(example.filter(\.learned).count) learned\n"
            out += "    text:   " + Self.marked(example.map { $0.text.replacingOccurrences(of: "\n", with: "⏎") }, example, separator: "") + "\n"
            out += "    tokens: " + Self.marked(example.map { Self.visible($0.text) }, example, separator: " ") + "\n"
        }
        return out
    }

    /// Pieces joined, each run of learned tokens inside «…».
    static func marked(_ pieces: [String], _ example: [Token], separator: String) -> String {
        var out = "", inside = false
        for (i, (piece, token)) in zip(pieces, example).enumerated() {
            if token.learned != inside {
                out += token.learned ? (i > 0 ? separator : "") + "«" : "»" + separator
                inside = token.learned
            } else if i > 0 {
                out += separator
            }
            out += piece
        }
        return out + (inside ? "»" : "")
    }

    static func visible(_ s: String) -> String {
        s.replacingOccurrences(of: " ", with: "·").replacingOccurrences(of: "\n", with: "⏎").replacingOccurrences(of: "\t", with: "⇥")
    }
}
