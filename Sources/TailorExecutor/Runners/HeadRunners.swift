import Foundation
import TailorData
import TailorEngine
import TailorModels
import TailorPlan
import TailorRuntime
import TailorTraining

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

/// model.init of encoders, train.head and eval.classify.
enum HeadRunners {
    static func initialiseEncoder(_ ctx: NodeContext) throws {
        let tokenizerArtifact = try ctx.input(.tokenizer).artifact
        let tokenizer = try ArtifactTokenizer.load(tokenizerArtifact)
        let p = try ctx.parameters(ModelInitParameters.self)
        if let kv = p.kvHeads, kv != p.heads {
            throw ExecutionError.keyValueHeads("bert", heads: p.heads, kv)
        }
        guard let mlp = p.mlp else { throw ParameterError(path: "size.mlp") }  // the planner fills bert's default
        let config = BertConfig(vocab: tokenizer.count, width: p.width, layers: p.layers, heads: p.heads,
                                ffn: mlp, maxPositions: p.context, typeVocab: 2, normEps: 1e-12)
        let bert = Bert(config: config, seed: ctx.seed, std: Float(p.std))
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

    static func loadBackbone(_ artifact: Artifact) throws -> (Backbone, TextTokenizer) {
        do {
            let folder = try HuggingFaceFolder(path: artifact.folder)
            if folder.modelType == "bert" { return (.encoder(try folder.bert()), try ArtifactTokenizer.load(artifact)) }
            let (decoder, tokenizer) = try ModelRunners.load(artifact)
            return (.decoder(decoder), .bpe(tokenizer))
        } catch let error as ModelFileError {
            throw ExecutionError(error.description)
        }
    }

    /// A classification head on pooled features, trained by the one `Trainer`; the backbone
    /// frozen (`freeze: backbone`), partly trained (`unfreeze`) or trained with it (`none`).
    /// Labels come from the tokenized data's labels.json; a held-out set (`train.eval`) is
    /// scored by the same cross-entropy, its labels matched to the training data's by name.
    static func train(_ ctx: NodeContext) throws {
        let modelArtifact = try ctx.input(.base).artifact
        let (backbone, tokenizer) = try loadBackbone(modelArtifact)
        let trainArtifact = try ctx.input(.data).artifact
        let (tokens, classes, labels) = try labelled(trainArtifact, "the training data")
        let head = try ctx.parameters(HeadParameters.self)
        let k = head.labels ?? classes.count  // the schema's default: the labels the data has
        guard classes.count <= k else { throw ExecutionError.moreLabels(classes.count, than: k) }
        guard let pooling = Pooling(rawValue: head.pooling) else { throw ParameterError(path: "head.pooling") }
        backbone.makeTrainable()
        for (_, p) in backbone.parameters { p.requiringGrad(false) }
        let unfreeze = head.unfreeze
        let training = head.trainsBackbone
            ? backbone.parameters : backbone.parameters.filter { name, _ in unfreeze.contains { TrainRunners.frozen(name, $0) } }
        if !unfreeze.isEmpty, training.isEmpty { throw ExecutionError.noUnfreezeMatch(unfreeze) }
        let length = head.train.width(context: backbone.context)  // `train.sequence` cuts examples
        func examples(_ tokens: TokenArrays, _ labels: [Int]) -> ClassificationObjective.Examples {
            .init(sequences: (0..<tokens.count).map { Array(tokens.sequence($0).ids.prefix(length)) }, labels: labels)
        }
        var heldOut: ClassificationObjective.Examples?
        if let evalArtifact = ctx.inputs(.heldOut).first?.artifact {
            let (evalTokens, evalClasses, evalLabels) = try labelled(evalArtifact, "the held-out data of `train.eval`")
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            let unknown = evalClasses.filter { index[$0] == nil }
            if !unknown.isEmpty {
                throw ExecutionError.heldOutLabels(unknown)
            }
            heldOut = examples(evalTokens, evalLabels.map { index[evalClasses[$0]]! })
        }
        if training.isEmpty { ctx.progress("features of \(tokens.count) examples from the frozen backbone") }
        var objective = try ClassificationObjective(backbone: backbone, head: TaskHead(width: backbone.width, outputs: k, seed: ctx.seed),
                                                    pooling: pooling, trainingBackbone: training, training: examples(tokens, labels), heldOut: heldOut)
        let summary = try TrainRunners.train(&objective, try TrainingSettings(head.train, examples: objective.rowsPerEpoch), ctx, rate: nil)
        let projection = objective.head.projection
        switch (backbone, tokenizer) {
        case (.decoder(let m), .bpe(let t)):
            try ModelRunners.save(m, tokenizer: t, into: ctx.output, chatTemplate: ArtifactTokenizer.chatTemplateSource(modelArtifact))
        case (.encoder(let b), _): try save(b, tokenizerFrom: modelArtifact.folder, into: ctx.output)
        case (.decoder, .wordPiece): throw ExecutionError.decoderWithWordPiece
        }
        try Safetensors.write(["head.weight": projection.weight, "head.bias": projection.bias!], to: ctx.out("head.safetensors"))
        try JSONText.render(["classes": classes, "labels": k, "pooling": pooling.rawValue] as [String: Any])
            .write(toFile: ctx.out("head.json"), atomically: false, encoding: .utf8)
        try JSONText.render(TrainRunners.log(summary)).write(toFile: ctx.out("training.json"), atomically: false, encoding: .utf8)
    }

    /// A tokenized classification dataset: its sequences, class names and each example's class.
    static func labelled(_ artifact: Artifact, _ what: String) throws -> (TokenArrays, classes: [String], labels: [Int]) {
        let tokens = try TokenArrays.read(artifact.path("tokens.bin"))
        guard artifact.files["labels.json"] != nil,
              let data = FileManager.default.contents(atPath: artifact.path("labels.json")),
              let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let classes = json["classes"] as? [String], let labels = json["labels"] as? [Int],
              labels.count == tokens.count, labels.allSatisfy({ $0 >= 0 && $0 < classes.count })
        else { throw ExecutionError.noLabels(what) }
        return (tokens, classes, labels)
    }

    /// Accuracy and macro-F1 (per-class F1 averaged over the classes in the gold labels or the
    /// predictions) of a model with a head on a labelled dataset.
    static func evaluate(_ ctx: NodeContext) throws {
        let (modelInput, dataInput) = (try ctx.input(.model), try ctx.input(.evalData))
        let artifact = modelInput.artifact
        let (backbone, tokenizer) = try loadBackbone(artifact)
        let weights = try Safetensors.read(path: artifact.path("head.safetensors")).tensors
        guard let w = weights["head.weight"], let b = weights["head.bias"],
              let meta = FileManager.default.contents(atPath: artifact.path("head.json")),
              let json = (try? JSONSerialization.jsonObject(with: meta)) as? [String: Any], let classes = json["classes"] as? [String]
        else { throw ExecutionError.unreadableHead(artifact.key) }
        let pooling = Pooling(rawValue: json["pooling"] as? String ?? "mean") ?? .mean
        let head = TaskHead(projection: Linear(weight: w, bias: b))
        let scope = try ctx.parameters(EvalClassifyParameters.self).scope
        let data = try ctx.evaluated(dataInput, scope)
        var gold: [String] = [], predicted: [String] = []
        Tensor.noGrad {
            for start in stride(from: 0, to: data.count, by: 32) {
                let records = data.records[start..<Swift.min(data.count, start + 32)]
                let sequences = records.map { tokenizer.classificationIDs(RecordText.parts($0)?.answer ?? "", limit: backbone.context) }
                let best = head(backbone.features(sequences, pooling: pooling)).argmax(axis: 1)
                gold += records.map { Labels.name($0["label"]) }
                predicted += best.map { $0 < classes.count ? classes[$0] : "#\($0)" }
            }
        }
        let metrics = scope.metrics
        var result: [String: Any] = ["model": modelInput.input.node, "data": dataInput.input.display, "examples": gold.count]
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

extension HeadRunners: NodeRunnerGroup {
    static let runners: [NodeKind: NodeRunner] = [.trainHead: train, .evalClassify: evaluate]
}
