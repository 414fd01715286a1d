import TailorSpec

extension Planner {
    /// The node producing model `name`; built models get an init node, then pretraining.
    mutating func model(_ name: String) -> String {
        let id = "model.\(name)"
        if index[id] != nil { return id }
        guard let info = spec.models[name] else { return id }
        let v = info.value
        let seed = Self.int(spec.seed)
        if let arch = info.arch, v["arch"] != nil, let tok = v["tokenizer"]?.string {
            let tokNode = tokenizer(tok)
            tokenizerNode[name] = tokNode
            let dims = info.dims
            let size = Self.object([
                ("layers", dims.map { Self.int($0.layers) }), ("width", dims.map { Self.int($0.width) }),
                ("heads", dims.map { Self.int($0.heads) }), ("kv_heads", dims.map { Self.int($0.kvHeads) }),
                ("context", dims.map { Self.int($0.context) }), ("mlp", dims.map { Self.int($0.mlp) }),
            ])
            let initID = v["pretrain"] == nil ? id : "\(id).init"
            add(initID, .modelInit, params: Self.object([
                ("arch", Self.string(arch.name)), ("size", size), ("init", v["init"] ?? Self.object([("std", Value(.number(0.02), at: nil))])),
                ("seed", seed),
            ]), inputs: [PlanInput(node: tokNode, role: .tokenizer)], at: v.location, estimate: Estimator.model(dims, arch: arch))
            guard let pretrain = v["pretrain"] else { return id }
            var inputs = [PlanInput(node: initID, role: .base)]
            let data = dataInput(pretrain["data"]).map { tokens($0.as(.data), tokenizer: tokNode) }
            inputs += [data].compactMap { $0 }
            if let d = dataInput(pretrain["eval"]?["data"]) { inputs.append(tokens(d.as(.heldOut), tokenizer: tokNode)) }
            let params = Self.object([("train", Self.trainParams(pretrain)), ("seed", seed)])
            let dataRows = dataInput(pretrain["data"]).flatMap { rows(of: $0) }
            let lengths = data.flatMap { estimate(of: $0.node).lengths }
            return add(id, .trainPretrain, params: params, inputs: inputs, at: pretrain.location,
                       estimate: Estimator.training(dims, arch: arch, kind: .trainPretrain, params: params, rows: dataRows,
                                                    lengths: lengths))
        }
        if let path = v["load"]?.string {
            tokenizerNode[name] = id
            let format = path.hasSuffix(".gguf") ? "gguf" : "hf"
            let e = info.arch.map { Estimator.model(info.dims, arch: $0) } ?? Estimate()
            return add(id, .modelLoad, params: Self.object([("format", Self.string(format))]), files: [path],
                       at: v.location, estimate: e)
        }
        guard let baseName = info.base else { return id }
        let baseID = model(baseName)
        let tokNode = tokenizerNode[baseName] ?? baseID
        tokenizerNode[name] = tokNode
        let method = info.method
        let methodValue = v[method] ?? Self.object([])
        var inputs = [PlanInput(node: baseID, role: .base)]
        let train = v["train"]
        let trainTokens = dataInput(train?["data"]).map { tokens($0.as(.data), tokenizer: tokNode) }
        inputs += [trainTokens].compactMap { $0 }
        let heldOutTokens = dataInput(train?["eval"]?["data"]).map { tokens($0.as(.heldOut), tokenizer: tokNode) }
        inputs += [heldOutTokens].compactMap { $0 }
        var methodParams = methodValue
        var files: [String] = []
        switch method {
        case "lora":
            // An imported adapter is a file of the node (its digest is in the key), not a parameter.
            if let path = methodValue["load"]?.string {
                files = [path]
                methodParams = methodValue.removing(["load", "rank", "alpha", "targets", "rslora"])
            }
        case "continual":
            return continualStages(id, v, info, base: baseID, tokenizer: tokNode, methodValue)
        case "dpo":
            // The reference's log-probabilities are their own node: keyed by the reference and
            // the pairs only, so DPO models that differ in β or training settings share them.
            let refName = methodValue["reference"]?.string ?? baseName
            let refModel = model(refName)
            let pairs = [trainTokens?.as(.data), heldOutTokens].compactMap { $0 }
            // Both answers of every training and held-out pair; unknown if either count is.
            let counts = [dataInput(train?["data"]), dataInput(train?["eval"]?["data"])].compactMap { $0 }.map { rows(of: $0) }
            let refRows = counts.contains { $0 == nil } ? nil : 2 * counts.reduce(0) { $0 + $1! }
            let refInfo = spec.models[refName]
            let refLengths = trainTokens.flatMap { estimate(of: $0.node).lengths }
            let refEstimate = refInfo?.arch.map {
                Estimator.inference(refInfo!.dims, arch: $0, rows: refRows, lengths: refLengths, maxTokens: nil, scores: true, logits: true)
            } ?? Estimate()
            let refID = add("\(id).reference", .dpoReference, params: Self.object([]),
                            inputs: [PlanInput(node: refModel, role: .model)] + pairs, at: (methodValue["reference"] ?? v).location,
                            estimate: refEstimate)
            inputs.append(PlanInput(node: refID, role: .reference))
            methodParams = methodValue.removing(["reference"])
        case "ppo":
            if let r = methodValue["reward"]?.string { inputs.append(PlanInput(node: model(r), role: .reward)) }
            methodParams = methodValue.removing(["reward"])
        default:
            break
        }
        // The checker accepts only these methods; anything else plans no node rather than another method's.
        guard let kind = Self.trainingKinds[method] else { return id }
        let arch = info.arch, dims = info.dims
        let trainRows = dataInput(train?["data"]).flatMap { rows(of: $0) }
        let lengths = trainTokens.flatMap { estimate(of: $0.node).lengths }
        let params = Self.object([(method, methodParams), ("train", train.map(Self.trainParams)), ("seed", seed)])
        return add(id, kind, params: params, inputs: inputs, files: files, at: v.location, estimate: arch.map {
            Estimator.training(dims, arch: $0, kind: kind, params: params, rows: trainRows, lengths: lengths)
        } ?? Estimate())
    }

    /// A continual model is one training node per task, each starting from the one before
    /// (the first from the base), so appending a task reuses every earlier stage from the cache
    /// and changing a task reruns that stage and those after it. The last stage is the model.
    /// The first stage has no earlier task to protect, so it carries no mitigation (but an
    /// adapter per task) and is shared by every continual model over the same base, first task
    /// and training settings. With replay, each later stage also reads the earlier tasks'
    /// tokens, in training order; with EWC, every earlier stage's Fisher information. An adapter
    /// per task trains on the base alone, so its stage reads no earlier one, unless the adapters
    /// are merged: then each stage folds its adapter into the stage before.
    mutating func continualStages(_ id: String, _ v: Value, _ info: ModelInfo, base: String, tokenizer: String, _ continual: Value) -> String {
        let tasks = (continual["tasks"]?.list ?? []).compactMap { dataInput($0) }
        let train = v["train"].map(Self.trainParams)
        let mitigation = continual["mitigation"], lora = continual["lora"]
        let perTask = mitigation?["adapters"]
        var previous = base, earlier: [PlanInput] = [], fishers: [PlanInput] = []
        var stages: [String] = []
        for (k, task) in tasks.enumerated() {
            let stageID = k == tasks.count - 1 ? id : "\(id).stage\(k + 1)"
            let taskTokens = tokens(task.as(.data), tokenizer: tokenizer)
            var inputs: [PlanInput]
            if perTask != nil {
                inputs = [PlanInput(node: base, role: .base), taskTokens]
                if perTask?["merge"]?.bool == true, k > 0 { inputs.append(PlanInput(node: previous, role: .stage)) }
            } else {
                inputs = [PlanInput(node: previous, role: k == 0 ? .base : .stage), taskTokens]
            }
            // An adapter per task starts at the first task; the other mitigations protect earlier
            // ones. Online EWC's γ weighs stages two or more back, so it is in the key from the
            // third stage on.
            let protects = k > 0 || perTask != nil ? (k < 2 ? mitigation?.removing(["gamma"]) : mitigation) : nil
            if protects?["replay"] != nil || protects?["replay_examples"] != nil { inputs += earlier.map { $0.as(.task) } }
            if protects?["ewc"] != nil, let last = earlier.last {
                // The stage before's Fisher on its own task: keyed by that stage and task only,
                // so a sweep over λ computes it once. With `lora`, of the adapter's weights.
                let fisherParams = Self.object([("examples", Self.int(Self.fisherExamples)), ("adapters", lora.map { _ in Value(.bool(true), at: nil) })])
                fishers.append(PlanInput(node: add("\(previous).fisher", .ewcFisher, params: fisherParams,
                                                   inputs: [PlanInput(node: previous, role: .model), last], at: (continual["tasks"]?.list?[k - 1] ?? v).location),
                                         role: .fisher))
                inputs += fishers
            }
            let methodParams = lora == nil && protects == nil ? nil : Self.object([("lora", lora), ("mitigation", protects)])
            // Each task's adapter is drawn from its own seed (the spec's, plus the stage's index), so
            // no two tasks' adapters start from the same A matrices.
            let seed = perTask != nil ? spec.seed + k : spec.seed
            let params = Self.object([("continual", methodParams), ("train", train), ("seed", Self.int(seed))])
            let taskRows = rows(of: task), lengths = estimate(of: taskTokens.node).lengths
            add(stageID, .trainContinual, params: params, inputs: inputs, at: (continual["tasks"]?.list?[k] ?? v).location, estimate: info.arch.map {
                Estimator.training(info.dims, arch: $0, kind: .trainContinual, params: params, rows: taskRows, lengths: lengths)
            } ?? Estimate())
            earlier.append(taskTokens)
            stages.append(stageID)
            previous = stageID
        }
        continualStages[info.name] = (base: base, stages: stages, routed: perTask != nil && perTask?["merge"]?.bool != true)
        return id
    }

    /// Examples the Fisher information of a stage averages over (the first that fit).
    static let fisherExamples = 256

    /// The training node of each customization method.
    static let trainingKinds: [String: NodeKind] = [
        "finetune": .trainFinetune, "lora": .trainLoRA, "head": .trainHead, "continual": .trainContinual,
        "reward": .trainReward, "dpo": .trainDPO, "ppo": .trainPPO,
    ]

    /// Training settings as hashed: references are inputs, not parameters.
    static func trainParams(_ train: Value) -> Value {
        var t = train.removing(["data"])
        if let eval = train["eval"] { t = t.setting("eval", eval.removing(["data"])) }
        return t
    }

    /// A RAG pipeline's index node: chunks of the documents embedded by the encoder.
    mutating func rag(_ name: String) -> String {
        let id = "rag.\(name).index"
        if index[id] != nil { return id }
        guard let v = spec.value["rag"]?[name] else { return id }
        let chunkID = "rag.\(name).chunks"
        let chunk = v["chunk"] ?? Self.object([
            ("size", Self.int(200)), ("overlap", Self.int(20)), ("unit", Self.string("words")),
        ])
        // Passages sized in tokens are sized by the encoder's tokenizer.
        var chunkInputs = [dataInput(v["documents"])?.as(.documents)].compactMap { $0 }
        if chunk["unit"]?.string == "tokens", let embed = v["embed"]?.string { chunkInputs.append(PlanInput(node: model(embed), role: .encoder)) }
        add(chunkID, .ragChunk, params: Self.object([("chunk", chunk)]), inputs: chunkInputs, at: v.location)
        var inputs = [PlanInput(node: chunkID, role: .chunks)]
        if let embed = v["embed"]?.string { inputs.append(PlanInput(node: model(embed), role: .encoder)) }
        return add(id, .ragIndex, params: Self.object([("metric", v["metric"]), ("hnsw", v["hnsw"])]), inputs: inputs, at: v.location)
    }

    mutating func eval(_ name: String, _ v: Value) {
        // Settings no metric of this eval reads stay out of its parameters (and so its key).
        let names = Set((v["metrics"]?.list ?? []).compactMap(\.string))
        let params = v.removing(["models", "rag", "data", "prompt", "reward", "baseline", "tasks", "repeats"]
                                + Metric.settingsByMetric.filter { names.isDisjoint(with: $0.metrics) }.map(\.key))
        if names.contains("forgetting") { return forgettingMatrix(name, v, params: params) }
        var shared: [PlanInput] = [dataInput(v["data"])?.as(.evalData)].compactMap { $0 }
        if let p = v["prompt"]?.string {
            let promptID = prompt(p)
            shared += promptInputs(promptID)
        }
        var rows = shared.first.flatMap { self.rows(of: $0) }
        if let limit = v["limit"]?.int { rows = rows.map { min($0, limit) } ?? limit }
        var parts: [PlanInput] = []
        if let ragName = v["rag"]?.string, let pipeline = spec.value["rag"]?[ragName] {
            var inputs = [PlanInput(node: rag(ragName), role: .index)] + shared
            // Questions are embedded by the encoder that embedded the passages; the generator, its
            // prompt and how many passages it reads matter only to a metric that generates.
            if let e = pipeline["embed"]?.string { inputs.append(PlanInput(node: model(e), role: .encoder)) }
            let generates = !names.isDisjoint(with: Metric.generating)
            if generates, let g = pipeline["generator"]?.string { inputs.append(PlanInput(node: model(g), role: .generator)) }
            if generates, let p = pipeline["prompt"]?.string {
                let promptID = prompt(p)
                inputs += promptInputs(promptID)
            }
            let settings = pipeline.removing(["documents", "embed", "generator", "prompt", "chunk", "metric", "hnsw"] + (generates ? [] : ["top_k"]))
            let id = add("eval.\(name).\(ragName)", .evalRAG,
                         params: settings.entries?.isEmpty == false ? params.setting("rag", settings) : params,
                         inputs: inputs, at: v.location)
            parts.append(PlanInput(node: id, role: .result))
        }
        for ref in v["models"]?.list ?? [] {
            guard let m = ref.string, let info = spec.models[m] else { continue }
            var inputs = [PlanInput(node: model(m), role: .model)] + shared
            if let r = v["reward"]?.string { inputs.append(PlanInput(node: model(r), role: .reward)) }
            if let b = v["baseline"]?.string { inputs.append(PlanInput(node: model(b), role: .baseline)) }
            let kind: NodeKind = switch info.kind {
            case .classifier: .evalClassify
            case .reward: .evalReward
            default: .evalLM  // a continual model outside the forgetting matrix: its last stage, as any language model
            }
            let arch = info.arch, dims = info.dims, evalRows = rows
            let generates = kind == .evalLM && !names.isDisjoint(with: ["exact_match", "contains", "answer_check", "win_rate"])
            let scores = kind != .evalLM || !names.isDisjoint(with: ["loss", "perplexity"])
            let lengths = shared.first.flatMap { data in
                tokenizerNode[m].flatMap { self.lengths(data, tokenizer: $0, prompt: v["prompt"]?.string.map { "prompt.\($0)" }) }
            }
            // A reward model scores both answers of each pair; `win_rate` generates the baseline's
            // answers too.
            let sequences = kind == .evalReward || names.contains("win_rate") ? evalRows.map { 2 * $0 } : evalRows
            // Each repeat is its own node: its examples, drawn with the repeat's seed, are its own.
            let repeats: [Int?] = v["repeats"]?.int.map { Array(1...$0) } ?? [nil]
            for r in repeats {
                let id = add("eval.\(name).\(m)" + (r.map { ".r\($0)" } ?? ""), kind, params: r.map { params.setting("repeat", Self.int($0)) } ?? params,
                             inputs: inputs, at: ref.location, estimate: arch.map {
                    Estimator.inference(dims, arch: $0, rows: sequences, lengths: lengths, maxTokens: generates ? v["max_tokens"]?.int : nil, scores: scores,
                                        logits: kind == .evalLM)
                } ?? Estimate())
                parts.append(PlanInput(node: id, role: .result))
            }
        }
        add("eval.\(name)", .evalReport, params: Self.object([("metrics", v["metrics"])]), inputs: parts, at: v.location)
    }

    /// The forgetting matrix of each continual model. Every cell is its own exact-match eval
    /// node: row 0 the model's base, row i its stage i; columns each task's held-out set in
    /// training order, then the eval's `data`. So a new task or a new column computes only its
    /// own cells, and cells that two models share (the base, a shared first stage) have one key.
    /// Each model's `eval.continual` node gathers its cells row by row into the matrix.
    mutating func forgettingMatrix(_ name: String, _ v: Value, params: Value) {
        let refs = (v["tasks"]?.list ?? []) + [v["data"]].compactMap { $0 }
        let columns = refs.compactMap { dataInput($0) }
        let labels = refs.compactMap(\.string)
        let promptID = v["prompt"]?.string.map { prompt($0) }
        let cellParams = params.setting("metrics", Value(.list([Self.string("exact_match")]), at: nil))
        var parts: [PlanInput] = []
        for ref in v["models"]?.list ?? [] {
            guard let m = ref.string, let info = spec.models[m] else { continue }
            _ = model(m)
            guard let stages = continualStages[m] else { continue }
            var cells: [PlanInput] = []
            let rowModels = [stages.base] + stages.stages
            for i in rowModels.indices {
                for (j, (column, label)) in zip(columns, labels).enumerated() {
                    // Adapters chosen by task: task j is scored with its own adapter from stage j
                    // on, with the base before and in the general column (no task's adapter).
                    let s = !stages.routed ? i : j < stages.stages.count && j < i ? j + 1 : 0
                    var inputs = [PlanInput(node: rowModels[s], role: .model), column.as(.evalData)]
                    if let promptID { inputs += promptInputs(promptID) }
                    var evalRows = rows(of: column)
                    if let limit = v["limit"]?.int { evalRows = evalRows.map { min($0, limit) } ?? limit }
                    let cellLengths = tokenizerNode[m].flatMap { self.lengths(column, tokenizer: $0, prompt: promptID) }
                    let id = add("eval.\(name).\(m).stage\(s).\(label)", .evalLM, params: cellParams, inputs: inputs, at: ref.location,
                                 estimate: info.arch.map {
                                     Estimator.inference(info.dims, arch: $0, rows: evalRows, lengths: cellLengths, maxTokens: v["max_tokens"]?.int,
                                                         scores: false, logits: true)
                                 } ?? Estimate())
                    cells.append(PlanInput(node: id, role: .result))
                }
            }
            let matrix = Self.object([
                ("tasks", Self.int(stages.stages.count)), ("columns", Value(.list(labels.map { Self.string($0) }), at: nil)),
            ])
            parts.append(PlanInput(node: add("eval.\(name).\(m)", .evalContinual, params: matrix, inputs: cells, at: ref.location), role: .result))
        }
        add("eval.\(name)", .evalReport, params: Self.object([("metrics", v["metrics"])]), inputs: parts, at: v.location)
    }

    mutating func export(_ name: String, _ v: Value) {
        guard let m = v["model"]?.string else { return }
        add("export.\(name)", .exportModel, params: v.removing(["model"]), inputs: [PlanInput(node: model(m), role: .model)], at: v.location)
    }

    /// The server: its models, and for each RAG pipeline its index, encoder, generator and prompt,
    /// named in the parameters (`rag.NAME.{index, encoder, generator, prompt, shot_encoder, top_k}`)
    /// so `tailor serve` knows which input serves which pipeline.
    mutating func serve(_ v: Value) {
        var inputs = (v["models"]?.list ?? []).compactMap { $0.string.map { PlanInput(node: model($0), role: .model) } }
        var pipelines: [(String, Value)] = []
        for name in (v["rag"]?.list ?? []).compactMap(\.string) {
            guard let pipeline = spec.value["rag"]?[name], let g = pipeline["generator"]?.string, let p = pipeline["prompt"]?.string,
                  let e = pipeline["embed"]?.string else { continue }
            let (index, encoder, generator, promptID) = (rag(name), model(e), model(g), prompt(p))
            let prompts = promptInputs(promptID)
            inputs += [PlanInput(node: index, role: .index), PlanInput(node: encoder, role: .encoder), PlanInput(node: generator, role: .generator)] + prompts
            var entries = [("index", Self.string(index)), ("encoder", Self.string(encoder)), ("generator", Self.string(generator)),
                           ("prompt", Self.string(promptID)), ("top_k", pipeline["top_k"] ?? Self.int(4))]
            if let shots = prompts.first(where: { $0.role == .shotEncoder }) { entries.append(("shot_encoder", Self.string(shots.node))) }
            pipelines.append((name, Self.object(entries)))
        }
        add("serve", .serveAPI, params: pipelines.isEmpty ? v : v.setting("rag", Self.object(pipelines)), inputs: inputs, at: v.location)
    }
}
