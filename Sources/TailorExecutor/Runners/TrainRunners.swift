import Foundation
import TailorModels
import TailorRuntime
import TailorSpec

/// train.pretrain: next-token training of a decoder on tokenized sequences.
enum TrainRunners {
    /// Training settings from a node's `train` parameters.
    struct Settings {
        var steps: Int, batch: Int, accumulate: Int, lr: Float, warmup: Int, schedule: LearningRateSchedule.Shape
        var weightDecay: Float, gradClip: Float, trainOnInputs: Bool, optimizer: String, checkpointEvery: Int, packing: Bool

        init(_ v: Value?) {
            steps = v?["steps"]?.int ?? 100
            batch = v?["batch"]?.int ?? 8
            accumulate = Swift.max(1, v?["accumulate"]?.int ?? 1)
            lr = Float(v?["lr"]?.number ?? 1e-3)
            warmup = v?["warmup"]?.int ?? 0
            schedule = LearningRateSchedule.Shape(rawValue: v?["schedule"]?.string ?? "cosine") ?? .cosine
            weightDecay = Float(v?["weight_decay"]?.number ?? 0)
            gradClip = Float(v?["grad_clip"]?.number ?? 1)
            trainOnInputs = v?["train_on_inputs"]?.bool ?? false
            optimizer = v?["optimizer"]?.string ?? "adamw"
            checkpointEvery = v?["checkpoint_every"]?.int ?? 100
            packing = v?["packing"]?.bool ?? false
        }
    }

    static func pretrain(_ ctx: NodeContext) throws {
        let (model, tokenizer) = try ModelRunners.load(try ctx.artifact(holding: "model.safetensors"))
        let tokens = try TokenArrays.read(try ctx.artifact(holding: "tokens.bin").path("tokens.bin"))
        let s = Settings(ctx.params["train"])
        guard tokens.count > 0 else { throw ExecutionError("'\(ctx.node.id)': the training data is empty") }
        for i in 0..<tokens.count where !s.packing && tokens.offsets[i + 1] - tokens.offsets[i] > model.context + 1 {
            throw ExecutionError("'\(ctx.node.id)': example \(i + 1) is \(tokens.offsets[i + 1] - tokens.offsets[i]) tokens, "
                                 + "longer than the model's context of \(model.context) (+1 for the last target); set `packing: true` to cut long examples across rows")
        }
        model.makeTrainable()
        let named = model.namedParameters
        let parameters = named.map { $0.1.requiringGrad() }
        var optimizer: any Optimizer = s.optimizer == "sgd"
            ? SGD(parameters, momentum: 0.9, weightDecay: s.weightDecay)
            : AdamW(parameters, beta1: 0.9, beta2: 0.95, weightDecay: s.weightDecay)
        let schedule = LearningRateSchedule(peak: s.lr, warmup: s.warmup, total: s.steps, shape: s.schedule)
        var sampler = Sampler(count: tokens.count, seed: ctx.seed)
        var losses: [Float] = []
        var trainedTokens = 0
        var firstStep = 0
        if let resumed = Checkpoint.restore(parameters: named, optimizer: &optimizer, scratch: ctx.scratch) {
            firstStep = resumed.step
            sampler.restore(epoch: resumed.epoch, position: resumed.position)
            losses = resumed.losses
            trainedTokens = resumed.targetTokens
            ctx.progress("resumed from the checkpoint at step \(firstStep)")
        }
        let start = Date()
        for step in firstStep..<s.steps {
            optimizer.zeroGrad()
            var stepLoss: Float = 0
            for _ in 0..<s.accumulate {
                let (ids, targets, width) = s.packing
                    ? sampler.packed(tokens, rows: s.batch, width: model.context, trainOnInputs: s.trainOnInputs)
                    : batch(tokens, sampler.next(s.batch), trainOnInputs: s.trainOnInputs)
                let logits = model.logits(ids, batch: s.batch, cache: nil, keyStart: nil, lastOnly: false)  // (B, T, V)
                let loss = logits.reshaped([s.batch * width, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1) / Float(s.accumulate)
                do {
                    try loss.backward()
                } catch let error as NumericError {
                    throw ExecutionError("'\(ctx.node.id)' step \(step + 1): \(error) (lower 'lr' or check the data)")
                }
                stepLoss += loss.item
                trainedTokens += targets.filter { $0 >= 0 }.count
            }
            if s.gradClip > 0 { clipGradientNorm(parameters, maxNorm: s.gradClip) }
            optimizer.step(lr: schedule.rate(at: step))
            losses.append(stepLoss)
            if s.checkpointEvery > 0, (step + 1) % s.checkpointEvery == 0, step + 1 < s.steps {
                try Checkpoint.save(Checkpoint(step: step + 1, epoch: sampler.epoch, position: sampler.position, losses: losses,
                                               targetTokens: trainedTokens), parameters: named, optimizer: optimizer, scratch: ctx.scratch)
            }
            if step % 10 == 9 || step == s.steps - 1 {
                let rate = Double(trainedTokens) / Swift.max(1e-9, Date().timeIntervalSince(start))
                ctx.progress(String(format: "step %d/%d loss %.4f %.0f tokens/s", step + 1, s.steps, stepLoss, rate),
                             done: step + 1 - firstStep, total: s.steps - firstStep, since: start)
            }
        }
        Tensor.noGrad { for p in parameters { p.requiringGrad(false) } }
        try ModelRunners.save(model, tokenizer: tokenizer, into: ctx.output)
        let log: [String: Any] = ["steps": s.steps, "loss": losses.map(Double.init), "target_tokens": trainedTokens]
        try JSONSerialization.data(withJSONObject: log, options: [.sortedKeys]).write(to: URL(fileURLWithPath: ctx.out("training.json")))
    }

    /// A (B, T) batch right-padded to its longest sequence: inputs, and next-token targets with
    /// −1 where nothing is learned (padding, and prompts unless `trainOnInputs`).
    static func batch(_ tokens: TokenArrays, _ rows: [Int], trainOnInputs: Bool) -> (ids: [Int32], targets: [Int32], width: Int) {
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

    /// Examples in a fresh seeded order each epoch.
    struct Sampler {
        let count: Int, seed: UInt64
        var epoch = 0, position = 0
        var order: [Int]
        /// The packed epoch's tokens and loss mask (packing only; rebuilt from `order`).
        var stream: [Int32] = [], streamMask: [UInt8] = []

        init(count: Int, seed: UInt64) {
            self.count = count
            self.seed = seed
            order = DataRunners.permutation(count, seed: seed, stream: 0x7472_6169_6e00)
        }

        /// Continues a checkpointed order: the same epoch's permutation, the same position.
        mutating func restore(epoch: Int, position: Int) {
            self.epoch = epoch
            self.position = position
            order = DataRunners.permutation(count, seed: seed, stream: 0x7472_6169_6e00 + UInt64(epoch))
            stream = []  // a packed stream is rebuilt from the order on the next batch
        }

        /// `rows` packed rows of `width` inputs: sequences (each ending in end of text) laid end
        /// to end in this epoch's order and cut every `width` tokens, so no position is padding.
        /// `position` counts tokens into the epoch's stream; a row's targets are the next tokens.
        mutating func packed(_ tokens: TokenArrays, rows: Int, width: Int, trainOnInputs: Bool) -> (ids: [Int32], targets: [Int32], width: Int) {
            var ids: [Int32] = [], targets: [Int32] = []
            for _ in 0..<rows {
                while stream.isEmpty || position + width + 1 > stream.count {
                    if !stream.isEmpty {  // the epoch's stream is used up: the next epoch's order
                        epoch += 1
                        position = 0
                        order = DataRunners.permutation(count, seed: seed, stream: 0x7472_6169_6e00 + UInt64(epoch))
                        stream = []
                        streamMask = []
                    }
                    for i in order {
                        let (seq, mask) = tokens.sequence(i)
                        stream += seq
                        streamMask += mask
                    }
                    // A corpus shorter than one row repeats until it fills it.
                    while stream.count < width + 1 {
                        stream += stream
                        streamMask += streamMask
                    }
                }
                for j in 0..<width {
                    ids.append(stream[position + j])
                    targets.append(trainOnInputs || streamMask[position + j + 1] == 1 ? stream[position + j + 1] : -1)
                }
                position += width
            }
            return (ids, targets, width)
        }

        mutating func next(_ n: Int) -> [Int] {
            (0..<n).map { _ in
                if position == count {
                    epoch += 1
                    position = 0
                    order = DataRunners.permutation(count, seed: seed, stream: 0x7472_6169_6e00 + UInt64(epoch))
                }
                defer { position += 1 }
                return order[position]
            }
        }
    }
}
