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
        /// Tokens per training row (`train.sequence`); nil: the model's context.
        var sequence: Int?

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
            sequence = v?["sequence"]?.int
        }

        /// Tokens per row for a model of `context`: `sequence`, never past the context (the
        /// checker refuses more where it knows the context).
        func width(context: Int) -> Int { Swift.min(sequence ?? context, context) }
    }

    /// train.pretrain, train.finetune and train.lora: next-token training of a decoder on
    /// tokenized sequences. Pretraining and fine-tuning update every weight not frozen by a
    /// `freeze` pattern; LoRA freezes the base and trains adapters on its `targets`. With an
    /// eval set (`train.eval`), the eval loss is measured every `every` steps, training stops
    /// after `patience` evals without improvement, and the best weights are kept.
    static func train(_ ctx: NodeContext) throws {
        let (model, tokenizer) = try ModelRunners.load(try ctx.artifact(holding: "model.safetensors"))
        let tokenInputs = ctx.inputs.filter { $0.artifact.files["tokens.bin"] != nil }
        guard let trainInput = tokenInputs.first else {
            guard ctx.node.kind == .trainLoRA, !ctx.node.files.isEmpty else { throw ExecutionError("'\(ctx.node.id)' has no training data") }
            _ = try trainable(model, ctx)  // `lora.load` without `train`: the base with the imported adapter
            return try ModelRunners.save(model, tokenizer: tokenizer, into: ctx.output)
        }
        let tokens = try TokenArrays.read(trainInput.artifact.path("tokens.bin"))
        let evalTokens = try tokenInputs.dropFirst().first.map { try TokenArrays.read($0.artifact.path("tokens.bin")) }
        let s = Settings(ctx.params["train"])
        guard tokens.count > 0 else { throw ExecutionError("'\(ctx.node.id)': the training data is empty") }
        let width = s.width(context: model.context)
        let limit = s.sequence == nil ? "the model's context of \(width)" : "train.sequence (\(width))"
        for i in 0..<tokens.count where !s.packing && tokens.offsets[i + 1] - tokens.offsets[i] > width + 1 {
            throw ExecutionError("'\(ctx.node.id)': example \(i + 1) is \(tokens.offsets[i + 1] - tokens.offsets[i]) tokens, "
                                 + "longer than \(limit) (+1 for the last target); set `packing: true` to cut long examples across rows")
        }
        model.makeTrainable()
        let named = try trainable(model, ctx)
        let parameters = named.map { $0.1.requiringGrad() }
        var optimizer: any Optimizer = s.optimizer == "sgd"
            ? SGD(parameters, momentum: 0.9, weightDecay: s.weightDecay)
            : AdamW(parameters, beta1: 0.9, beta2: 0.95, weightDecay: s.weightDecay)
        let schedule = LearningRateSchedule(peak: s.lr, warmup: s.warmup, total: s.steps, shape: s.schedule)
        var sampler = Sampler(count: tokens.count, seed: ctx.seed)
        var losses: [Float] = []
        var trainedTokens = 0
        var firstStep = 0
        let evalEvery = ctx.params["train"]?["eval"]?["every"]?.int ?? 0, patience = ctx.params["train"]?["eval"]?["patience"]?.int ?? 0
        var evals: [(step: Int, loss: Double)] = []
        var best: (loss: Double, weights: [Tensor])?
        var stale = 0
        switch Checkpoint.restore(parameters: named, optimizer: &optimizer, scratch: ctx.scratch) {
        case .resumed(let resumed):
            firstStep = resumed.step
            sampler.restore(epoch: resumed.epoch, position: resumed.position)
            losses = resumed.losses
            trainedTokens = resumed.targetTokens
            (evals, stale, best) = (resumed.evals, resumed.stale, resumed.best)
            ctx.progress("resumed from the checkpoint at step \(firstStep)")
        case .discarded(let why):
            ctx.warn("the checkpoint of an earlier attempt was discarded, \(why); training starts from step 0")
        case .none: break
        }
        let start = Date()
        for step in firstStep..<s.steps {
            optimizer.zeroGrad()
            var stepLoss: Float = 0
            for micro in 0..<s.accumulate {
                (model as? Adaptable)?.adapters.dropoutStep = UInt64(step * s.accumulate + micro)
                let logits: Tensor, targets: [Int32], rowWidth: Int
                if s.packing {
                    let rows = sampler.packed(tokens, rows: s.batch, width: width, trainOnInputs: s.trainOnInputs)
                    (targets, rowWidth) = (rows.targets, width)
                    logits = model.logits(rows.ids, batch: s.batch, packed: rows.layout)  // (B, T, V)
                } else {
                    let rows = batch(tokens, sampler.next(s.batch), trainOnInputs: s.trainOnInputs)
                    (targets, rowWidth) = (rows.targets, rows.width)
                    logits = model.logits(rows.ids, batch: s.batch, cache: nil, keyStart: nil, lastOnly: false)  // (B, T, V)
                }
                let loss = logits.reshaped([s.batch * rowWidth, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1) / Float(s.accumulate)
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
            if step % 10 == 9 || step == s.steps - 1 {
                let rate = Double(trainedTokens) / Swift.max(1e-9, Date().timeIntervalSince(start))
                ctx.progress(String(format: "step %d/%d loss %.4f %.0f tokens/s", step + 1, s.steps, stepLoss, rate),
                             done: step + 1 - firstStep, total: s.steps - firstStep, since: start)
            }
            if let evalTokens, evalEvery > 0, (step + 1) % evalEvery == 0 || step == s.steps - 1 {
                let loss = Tensor.noGrad { withoutDropout(model) { evaluationLoss(model, evalTokens) } }
                evals.append((step + 1, loss))
                if loss < (best?.loss ?? .infinity) {
                    best = (loss, Tensor.noGrad { parameters.map { Tensor($0.scalars, shape: $0.shape) } })
                    stale = 0
                } else {
                    stale += 1
                    if patience > 0, stale >= patience {
                        ctx.progress(String(format: "stopped early at step %d: eval loss %.4f, best %.4f", step + 1, loss, best!.loss))
                        break
                    }
                }
            }
            // After this step's eval, so a resumed run holds the evals and best weights it had.
            if s.checkpointEvery > 0, (step + 1) % s.checkpointEvery == 0, step + 1 < s.steps {
                try Checkpoint.save(Checkpoint(step: step + 1, epoch: sampler.epoch, position: sampler.position, losses: losses,
                                               targetTokens: trainedTokens, evals: evals, stale: stale, best: best),
                                    parameters: named, optimizer: optimizer, scratch: ctx.scratch)
            }
        }
        (model as? Adaptable)?.adapters.dropout = 0  // dropout is for training only
        Tensor.noGrad {
            if let best { for (p, w) in zip(parameters, best.weights) { p.assign(w) } }  // the best eval's weights
            for p in parameters { p.requiringGrad(false) }
        }
        try ModelRunners.save(model, tokenizer: tokenizer, into: ctx.output)
        var log: [String: Any] = ["steps": losses.count, "loss": losses.map(Double.init), "target_tokens": trainedTokens,
                                  "trainable_parameters": parameters.reduce(0) { $0 + $1.count }]
        if !evals.isEmpty {
            log["eval"] = evals.map { ["step": $0.step, "loss": $0.loss] as [String: Any] }
            log["best_eval_loss"] = best?.loss
        }
        try JSONText.render(log).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    /// The parameters this node trains, by name: every weight not matched by `finetune.freeze`
    /// (pretraining and fine-tuning), or fresh LoRA adapters on a frozen base.
    static func trainable(_ model: any CausalLM, _ ctx: NodeContext) throws -> [(String, Tensor)] {
        guard ctx.node.kind == .trainLoRA else {
            let freeze = (ctx.params["finetune"]?["freeze"]?.list ?? []).compactMap(\.string)
            let all = model.namedParameters
            for (_, p) in all { p.requiringGrad(false) }
            let chosen = all.filter { name, _ in !freeze.contains { pattern in frozen(name, pattern) } }
            if chosen.isEmpty { throw ExecutionError("'\(ctx.node.id)': `freeze` leaves no weight to train") }
            return chosen
        }
        guard let adaptable = model as? Adaptable else { throw ExecutionError("this architecture takes no LoRA adapters") }
        let lora = ctx.params["lora"]
        for (_, p) in model.namedParameters { p.requiringGrad(false) }
        if let file = ctx.node.files.first {  // `lora.load`: start from an adapter in PEFT's layout
            do {
                try PEFTAdapter.load(from: ctx.resolve(file), into: adaptable)
            } catch let error as ModelFileError {
                throw ExecutionError(error.description)
            }
            for (_, p) in adaptable.adapters.parameters { p.requiringGrad() }
        } else {
            let rank = lora?["rank"]?.int ?? 8
            let targets = (lora?["targets"]?.list ?? []).compactMap(\.string)
            let count = adaptable.addLoRA(targets: targets.isEmpty ? ["attn.q", "attn.v"] : targets, rank: rank,
                                          alpha: Float(lora?["alpha"]?.number ?? Double(2 * rank)), rsLoRA: lora?["rslora"]?.bool ?? false,
                                          seed: ctx.seed)
            if count == 0 { throw ExecutionError("'\(ctx.node.id)': no module matches the LoRA targets \(targets)") }
        }
        adaptable.adapters.dropout = Float(lora?["dropout"]?.number ?? 0)
        adaptable.adapters.dropoutSeed = ctx.seed
        return adaptable.adapters.parameters
    }

    /// `body` with any LoRA dropout off (evaluation during training), restored after.
    static func withoutDropout<T>(_ model: any CausalLM, _ body: () -> T) -> T {
        guard let adaptable = model as? Adaptable else { return body() }
        let p = adaptable.adapters.dropout
        adaptable.adapters.dropout = 0
        defer { adaptable.adapters.dropout = p }
        return body()
    }

    /// Whether a parameter name is frozen by a pattern: the module itself, a module containing
    /// it (`embed` freezes `embed`, `layers.0` freezes `layers.0.attn.q`), or a `*` prefix.
    static func frozen(_ name: String, _ pattern: String) -> Bool {
        if pattern.hasSuffix("*") { return name.hasPrefix(String(pattern.dropLast())) }
        return name == pattern || name.hasPrefix(pattern + ".")
    }

    /// Mean next-token loss on an eval set's answer tokens, in batches of 16.
    static func evaluationLoss(_ model: any CausalLM, _ tokens: TokenArrays) -> Double {
        var total = 0.0, count = 0
        for start in stride(from: 0, to: tokens.count, by: 16) {
            let rows = Array(start..<Swift.min(tokens.count, start + 16)).filter { tokens.offsets[$0 + 1] - tokens.offsets[$0] <= model.context + 1 }
            guard !rows.isEmpty else { continue }
            let (ids, targets, width) = batch(tokens, rows, trainOnInputs: false)
            let n = targets.filter { $0 >= 0 }.count
            guard n > 0 else { continue }
            let loss = model.logits(ids, batch: rows.count, cache: nil, keyStart: nil, lastOnly: false)
                .reshaped([rows.count * width, model.vocab]).crossEntropy(targets: targets, ignoreIndex: -1)
            total += Double(loss.item) * Double(n)
            count += n
        }
        return count > 0 ? total / Double(count) : 0
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
        /// The packed epoch's tokens, loss mask and where each token's example starts in the
        /// stream (packing only; rebuilt from `order`).
        var stream: [Int32] = [], streamMask: [UInt8] = [], streamStart: [Int] = []

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
        /// Each example keeps to itself: its positions restart at 0, it attends only to its own
        /// tokens, and its last token has no target (the next example is not its continuation).
        /// An example cut at a row's start continues from position 0 of that row.
        /// `position` counts tokens into the epoch's stream; a row's targets are the next tokens.
        mutating func packed(_ tokens: TokenArrays, rows: Int, width: Int, trainOnInputs: Bool) -> (ids: [Int32], targets: [Int32], layout: PackedRows) {
            var ids: [Int32] = [], targets: [Int32] = [], starts: [Int] = []
            for _ in 0..<rows {
                while stream.isEmpty || position + width + 1 > stream.count {
                    if !stream.isEmpty {  // the epoch's stream is used up: the next epoch's order
                        epoch += 1
                        position = 0
                        order = DataRunners.permutation(count, seed: seed, stream: 0x7472_6169_6e00 + UInt64(epoch))
                        stream = []
                        streamMask = []
                        streamStart = []
                    }
                    for i in order {
                        let (seq, mask) = tokens.sequence(i)
                        streamStart += Array(repeating: stream.count, count: seq.count)
                        stream += seq
                        streamMask += mask
                    }
                    // A corpus shorter than one row repeats until it fills it.
                    while stream.count < width + 1 {
                        streamStart += streamStart.map { $0 + stream.count }
                        stream += stream
                        streamMask += streamMask
                    }
                }
                for j in 0..<width {
                    let here = position + j
                    ids.append(stream[here])
                    let sameExample = streamStart[here + 1] == streamStart[here]
                    targets.append(sameExample && (trainOnInputs || streamMask[here + 1] == 1) ? stream[here + 1] : -1)
                    starts.append(Swift.max(0, streamStart[here] - position))
                }
                position += width
            }
            return (ids, targets, PackedRows(segmentStart: starts, width: width))
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
