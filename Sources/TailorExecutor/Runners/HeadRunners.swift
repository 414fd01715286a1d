import Foundation
import TailorModels
import TailorRuntime

/// Class labels as text ("positive", "2"), in a fixed order: numbers numerically, else by text.
enum Labels {
    static func name(_ value: Any?) -> String {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return n.stringValue }
        return "\(value ?? "")"
    }

    static func classes(_ names: [String]) -> [String] {
        let unique = Array(Set(names))
        if unique.allSatisfy({ Int($0) != nil }) { return unique.sorted { Int($0)! < Int($1)! } }
        return unique.sorted()
    }
}

/// A backbone read from a model artifact: a decoder or an encoder, with its tokenizer.
enum Backbone {
    case decoder(any CausalLM)
    case encoder(Bert)

    var width: Int {
        switch self {
        case .decoder(let m): m.width
        case .encoder(let b): b.config.width
        }
    }

    var context: Int {
        switch self {
        case .decoder(let m): m.context
        case .encoder(let b): b.config.maxPositions
        }
    }

    var parameters: [(String, Tensor)] {
        switch self {
        case .decoder(let m): m.namedParameters
        case .encoder(let b): b.namedParameters
        }
    }

    func makeTrainable() {
        switch self {
        case .decoder(let m): m.makeTrainable()
        case .encoder(let b): b.makeTrainable()
        }
    }

    /// Pooled features (B, C) of sequences of any lengths.
    func features(_ sequences: [[Int32]], pooling: Pooling) -> Tensor {
        let lengths = sequences.map(\.count)
        switch self {
        case .decoder(let m):
            let t = lengths.max()!
            let ids = sequences.flatMap { $0 + Array(repeating: 0, count: t - $0.count) }
            return pooling.pool(m.hidden(ids, batch: sequences.count, cache: nil, keyStart: nil), lengths: lengths)
        case .encoder(let b):
            return pooling.pool(b.hidden(sequences), lengths: lengths)
        }
    }
}

/// model.init of encoders, train.head and eval.classify.
enum HeadRunners {
    static func initialiseEncoder(_ ctx: NodeContext) throws {
        let tokenizerArtifact = try ctx.artifact(holding: "tokenizer.json")
        let tokenizer = try ArtifactTokenizer.load(tokenizerArtifact)
        let size = ctx.params["size"]
        let width = size?["width"]?.int ?? 128
        let config = BertConfig(vocab: tokenizer.count, width: width, layers: size?["layers"]?.int ?? 2, heads: size?["heads"]?.int ?? 4,
                                ffn: size?["mlp"]?.int ?? 4 * width, maxPositions: size?["context"]?.int ?? 128, typeVocab: 2, normEps: 1e-12)
        let bert = Bert(config: config, seed: ctx.seed, std: Float(ctx.params["init"]?["std"]?.number ?? 0.02))
        try save(bert, tokenizerFrom: tokenizerArtifact.folder, into: ctx.output)
    }

    /// An encoder's weights as a Hugging Face folder, with the tokenizer files of `source`
    /// (BPE or WordPiece) copied beside them.
    static func save(_ bert: Bert, tokenizerFrom source: String, into folder: String) throws {
        let staging = folder + "/.model"
        do {
            try HuggingFaceFolder.save(bert, to: staging)
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
        try moveUp(staging, into: folder)
        try ArtifactTokenizer.copyFiles(from: source, to: folder)
    }

    static func loadBackbone(_ artifact: Artifact) throws -> (Backbone, ArtifactTokenizer) {
        do {
            let folder = try HuggingFaceFolder(path: artifact.folder)
            if folder.modelType == "bert" { return (.encoder(try folder.bert()), try ArtifactTokenizer.load(artifact)) }
            let (decoder, tokenizer) = try ModelRunners.load(artifact)
            return (.decoder(decoder), .bpe(tokenizer))
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// A classification head on pooled features; the backbone frozen (`freeze: backbone`) or
    /// trained with it (`none`). Labels come from the tokenized data's labels.json.
    static func train(_ ctx: NodeContext) throws {
        let modelArtifact = try ctx.artifact(holding: "model.safetensors")
        let (backbone, tokenizer) = try loadBackbone(modelArtifact)
        let tokenArtifact = try ctx.artifact(holding: "tokens.bin")
        let tokens = try TokenArrays.read(tokenArtifact.path("tokens.bin"))
        guard tokenArtifact.files["labels.json"] != nil,
              let labelData = FileManager.default.contents(atPath: tokenArtifact.path("labels.json")),
              let labelJSON = (try? JSONSerialization.jsonObject(with: labelData)) as? [String: Any],
              let classes = labelJSON["classes"] as? [String], let labels = labelJSON["labels"] as? [Int]
        else { throw ExecutionError("'\(ctx.node.id)': the training data has no labels (a classification dataset is needed)") }
        let head = ctx.params["head"]
        let k = head?["labels"]?.int ?? classes.count
        guard classes.count <= k else { throw ExecutionError("'\(ctx.node.id)': the data has \(classes.count) labels, more than the head's \(k)") }
        let pooling = Pooling(rawValue: head?["pooling"]?.string ?? "mean") ?? .mean
        let s = TrainRunners.Settings(ctx.params["train"])
        backbone.makeTrainable()
        for (_, p) in backbone.parameters { p.requiringGrad(false) }
        var projection = TaskHead(width: backbone.width, outputs: k, seed: ctx.seed)
        var trainable = [projection.projection.weight, projection.projection.bias!]
        let unfreeze = (head?["unfreeze"]?.list ?? []).compactMap(\.string)
        let training = head?["freeze"]?.string == "none"
            ? backbone.parameters : backbone.parameters.filter { name, _ in unfreeze.contains { TrainRunners.frozen(name, $0) } }
        if !unfreeze.isEmpty, training.isEmpty { throw ExecutionError("'\(ctx.node.id)': no backbone module matches `unfreeze` \(unfreeze)") }
        trainable += training.map { $0.1.requiringGrad() }
        let frozen = training.isEmpty
        let length = s.width(context: backbone.context)  // `train.sequence` cuts examples
        func sequence(_ row: Int) -> [Int32] { Array(tokens.sequence(row).ids.prefix(length)) }
        // A frozen backbone gives each example the same features at every step: computed once.
        var cached: Tensor?
        if frozen {
            ctx.progress("features of \(tokens.count) examples from the frozen backbone")
            cached = Tensor.noGrad {
                let blocks = stride(from: 0, to: tokens.count, by: 32).map { start in
                    backbone.features((start..<Swift.min(tokens.count, start + 32)).map(sequence), pooling: pooling)  // (≤32, C)
                }
                return Tensor.concat(blocks, axis: 0)  // (N, C)
            }
        }
        var optimizer = AdamW(trainable, beta1: 0.9, beta2: 0.95, weightDecay: s.weightDecay)
        let schedule = LearningRateSchedule(peak: s.lr, warmup: s.warmup, total: s.steps, shape: s.schedule)
        var sampler = TrainRunners.Sampler(count: tokens.count, seed: ctx.seed)
        var losses: [Float] = []
        let start = Date()
        for step in 0..<s.steps {
            optimizer.zeroGrad()
            let rows = sampler.next(s.batch)
            let features = cached.map { $0.embedding(rows.map(Int32.init), shape: [rows.count]) }  // (B, C)
                ?? backbone.features(rows.map(sequence), pooling: pooling)
            let loss = projection(features).crossEntropy(targets: rows.map { Int32(labels[$0]) })
            do {
                try loss.backward()
            } catch let error as NumericError {
                throw ExecutionError("'\(ctx.node.id)' step \(step + 1): \(error) (lower 'lr')")
            }
            if s.gradClip > 0 { clipGradientNorm(trainable, maxNorm: s.gradClip) }
            optimizer.step(lr: schedule.rate(at: step))
            losses.append(loss.item)
            if step % 10 == 9 || step == s.steps - 1 {
                ctx.progress(String(format: "step %d/%d loss %.4f", step + 1, s.steps, loss.item), done: step + 1, total: s.steps, since: start)
            }
        }
        Tensor.noGrad { for p in trainable { p.requiringGrad(false) } }
        projection = TaskHead(projection: projection.projection)
        switch (backbone, tokenizer) {
        case (.decoder(let m), .bpe(let t)): try ModelRunners.save(m, tokenizer: t, into: ctx.output)
        case (.encoder(let b), _): try save(b, tokenizerFrom: modelArtifact.folder, into: ctx.output)
        case (.decoder, .wordPiece): throw ExecutionError("'\(ctx.node.id)': a decoder with a WordPiece tokenizer cannot be saved")
        }
        try Safetensors.write(["head.weight": projection.projection.weight, "head.bias": projection.projection.bias!], to: ctx.out("head.safetensors"))
        try JSONText.render(["classes": classes, "labels": k, "pooling": pooling.rawValue] as [String: Any])
            .write(toFile: ctx.out("head.json"), atomically: false, encoding: .utf8)
        try JSONText.render(["steps": s.steps, "loss": losses.map(Double.init), "trainable_parameters": trainable.reduce(0) { $0 + $1.count }] as [String: Any])
            .write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    /// Accuracy and macro-F1 (per-class F1 averaged over the classes in the gold labels or the
    /// predictions) of a model with a head on a labelled dataset.
    static func evaluate(_ ctx: NodeContext) throws {
        guard let modelIndex = ctx.inputs.firstIndex(where: { $0.artifact.files["head.safetensors"] != nil }),
              let dataIndex = ctx.inputs.firstIndex(where: { $0.artifact.files["model.safetensors"] == nil })
        else { throw ExecutionError("'\(ctx.node.id)' needs a model with a classification head and a dataset") }
        let artifact = ctx.inputs[modelIndex].artifact
        let (backbone, tokenizer) = try loadBackbone(artifact)
        let weights = try Safetensors.read(path: artifact.path("head.safetensors")).tensors
        guard let w = weights["head.weight"], let b = weights["head.bias"],
              let meta = FileManager.default.contents(atPath: artifact.path("head.json")),
              let json = (try? JSONSerialization.jsonObject(with: meta)) as? [String: Any], let classes = json["classes"] as? [String]
        else { throw ExecutionError("the head of \(artifact.key) is unreadable") }
        let pooling = Pooling(rawValue: json["pooling"] as? String ?? "mean") ?? .mean
        let head = TaskHead(projection: Linear(weight: w, bias: b))
        let data = try ctx.evaluated(dataIndex)
        var gold: [String] = [], predicted: [String] = []
        Tensor.noGrad {
            for start in stride(from: 0, to: data.count, by: 32) {
                let records = data.records[start..<Swift.min(data.count, start + 32)]
                let sequences = records.map { tokenizer.classificationIDs(Rendering.parts($0)?.answer ?? "", limit: backbone.context) }
                let best = head(backbone.features(sequences, pooling: pooling)).argmax(axis: 1)
                gold += records.map { Labels.name($0["label"]) }
                predicted += best.map { $0 < classes.count ? classes[$0] : "#\($0)" }
            }
        }
        let metrics = (ctx.params["metrics"]?.list ?? []).compactMap(\.string)
        var result: [String: Any] = ["model": ctx.inputs[modelIndex].input.node, "data": ctx.inputs[dataIndex].input.display, "examples": gold.count]
        if metrics.contains("accuracy") {
            result["accuracy"] = gold.isEmpty ? 0 : Double(zip(gold, predicted).filter { $0 == $1 }.count) / Double(gold.count)
        }
        if metrics.contains("macro_f1") {
            let scored = Set(gold).union(predicted)
            let f1 = scored.map { c -> Double in
                let tp = Double(zip(gold, predicted).filter { $0 == c && $1 == c }.count)
                let fp = Double(zip(gold, predicted).filter { $0 != c && $1 == c }.count)
                let fn = Double(zip(gold, predicted).filter { $0 == c && $1 != c }.count)
                return tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn)
            }
            result["macro_f1"] = f1.isEmpty ? 0 : f1.reduce(0, +) / Double(f1.count)
        }
        try JSONText.render(result).write(toFile: ctx.out("metrics.json"), atomically: false, encoding: .utf8)
    }
}
