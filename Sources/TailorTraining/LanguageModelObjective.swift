import TailorModels
import TailorRuntime

/// Next-token prediction (pretraining, full fine-tuning, LoRA): the mean cross-entropy of
/// the target tokens — answers only, unless `trainOnInputs` — in right-padded or packed rows.
public struct LanguageModelObjective: Objective {
    public let model: any CausalLM
    public let parameters: [(String, Tensor)]
    let tokens: TokenArrays
    let heldOut: TokenArrays?
    /// Tokens per row: `train.sequence`, never past the model's context.
    let width: Int
    let packing: Bool
    let trainOnInputs: Bool

    /// `parameters`: what trains (all weights not frozen, or LoRA adapters). Without packing,
    /// an example longer than a row is an error rather than silently cut.
    public init(model: any CausalLM, parameters: [(String, Tensor)], tokens: TokenArrays, heldOut: TokenArrays?,
                sequence: Int?, packing: Bool, trainOnInputs: Bool) throws {
        guard tokens.count > 0 else { throw TrainingError("the training data is empty") }
        let width = Swift.min(sequence ?? model.context, model.context)
        let limit = sequence == nil ? "the model's context of \(width)" : "train.sequence (\(width))"
        for i in 0..<tokens.count where !packing && tokens.offsets[i + 1] - tokens.offsets[i] > width + 1 {
            throw TrainingError("example \(i + 1) is \(tokens.offsets[i + 1] - tokens.offsets[i]) tokens, longer than \(limit) "
                                + "(+1 for the last target); set `packing: true` to cut long examples across rows")
        }
        (self.model, self.parameters, self.tokens, self.heldOut) = (model, parameters, tokens, heldOut)
        (self.width, self.packing, self.trainOnInputs) = (width, packing, trainOnInputs)
    }

    public var examples: Int { tokens.count }

    /// Packed, an epoch's stream of every example's tokens gives ⌊(tokens − 1) ÷ width⌋ full
    /// rows (the last token has no target), and at least one (a short corpus repeats).
    public var rowsPerEpoch: Int {
        packing ? Swift.max(1, (tokens.offsets[tokens.count] - 1) / width) : tokens.count
    }
    public var hasHeldOut: Bool { heldOut != nil }

    public mutating func loss(_ sampler: inout Sampler, rows: Int, draw: Int) throws -> (loss: Tensor, targets: Int) {
        (model as? Adaptable)?.adapters.dropoutStep = UInt64(draw)
        let logits: Tensor, targets: [Int32], rowWidth: Int
        if packing {
            let packed = sampler.packed(tokens, rows: rows, width: width, trainOnInputs: trainOnInputs)
            (targets, rowWidth) = (packed.targets, width)
            logits = model.logits(packed.ids, batch: rows, packed: packed.layout)  // (B, T, V)
        } else {
            let padded = Self.batch(tokens, sampler.next(rows), trainOnInputs: trainOnInputs)
            (targets, rowWidth) = (padded.targets, padded.width)
            logits = model.logits(padded.ids, batch: rows, cache: nil, keyStart: nil, lastOnly: false)  // (B, T, V)
        }
        let loss = logits.reshaped([rows * rowWidth, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1)
        return (loss, targets.filter { $0 >= 0 }.count)
    }

    public func heldOutLoss() -> Double {
        guard let heldOut else { return 0 }
        return Self.withoutDropout(model) { Self.evaluationLoss(model, heldOut) }
    }

    /// `body` with any LoRA dropout off (evaluation during training), restored after.
    static func withoutDropout<T>(_ model: any CausalLM, _ body: () -> T) -> T {
        guard let adaptable = model as? Adaptable else { return body() }
        let p = adaptable.adapters.dropout
        adaptable.adapters.dropout = 0
        defer { adaptable.adapters.dropout = p }
        return body()
    }

    /// Mean next-token loss on a held-out set's answer tokens, in batches of 16; examples
    /// longer than the context are left out.
    static func evaluationLoss(_ model: any CausalLM, _ tokens: TokenArrays) -> Double {
        var total = 0.0, count = 0
        for start in stride(from: 0, to: tokens.count, by: 16) {
            let rows = Array(start..<Swift.min(tokens.count, start + 16)).filter { tokens.offsets[$0 + 1] - tokens.offsets[$0] <= model.context + 1 }
            guard !rows.isEmpty else { continue }
            let (ids, targets, width) = batch(tokens, rows, trainOnInputs: false)
            let n = targets.filter { $0 >= 0 }.count
            guard n > 0 else { continue }
            let loss = model.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)  // (B, T, V)
                .reshaped([rows.count * width, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1)
            total += Double(loss.item) * Double(n)
            count += n
        }
        return count > 0 ? total / Double(count) : 0
    }

    /// A (B, T) batch right-padded to its longest sequence: inputs, and next-token targets with
    /// −1 where nothing is learned (padding, and prompts unless `trainOnInputs`).
    public static func batch(_ tokens: TokenArrays, _ rows: [Int], trainOnInputs: Bool) -> (ids: [Int32], targets: [Int32], width: Int) {
        let width = rows.map { tokens.offsets[$0 + 1] - tokens.offsets[$0] - 1 }.max() ?? 1
        var ids: [Int32] = [], targets: [Int32] = []
        for r in rows {
            let (seq, mask) = tokens.sequence(r)
            let s = Array(seq), m = Array(mask)
            for j in 0..<width {
                ids.append(j < s.count - 1 ? s[j] : 0)
                targets.append(j < s.count - 1 && (trainOnInputs || m[j + 1] == 1) ? s[j + 1] : -1)
            }
        }
        return (ids, targets, Swift.max(1, width))
    }
}
