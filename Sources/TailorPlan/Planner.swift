import TailorData
import TailorDiagnostics
import TailorSpec

/// Lowers a checked spec into small typed nodes with content keys and estimates.
/// Nodes are created depth-first from their consumers' needs, so every node's
/// inputs precede it and its key can be computed on creation.
struct Planner {
    let spec: CheckedSpec
    let digests: FileDigests
    /// Nodes planned for earlier sweep variants, reused when this variant cannot differ.
    let shared: PlanCache?
    var nodes: [PlanNode] = []
    var index: [String: Int] = [:]
    /// The node that supplies each model's tokenizer (a tokenizer node, or the loaded model).
    var tokenizerNode: [String: String] = [:]
    /// Each continual model's base and stage nodes, in training order (the forgetting matrix's rows),
    /// and whether its tasks are scored with their own adapters (adapters per task, not merged).
    var continualStages: [String: (base: String, stages: [String], routed: Bool)] = [:]
    /// The encoder node of each prompt that picks similar examples by embedding: every node
    /// that renders the prompt embeds its queries with it.
    var shotEncoder: [String: String] = [:]
    /// Sampled records, for the lengths of examples in estimates (shared by sweep variants).
    let sampler: DataSampler

    init(spec: CheckedSpec, digests: FileDigests, shared: PlanCache? = nil, sampler: DataSampler = DataSampler()) {
        self.spec = spec
        self.digests = digests
        self.shared = shared
        self.sampler = sampler
    }

    mutating func run() -> [PlanNode] {
        for (name, _) in spec.section("data") { _ = dataset(name) }
        for (name, _) in spec.section("tokenizers") { _ = tokenizer(name) }
        for (name, _) in spec.section("prompts") { _ = prompt(name) }
        for (name, _) in spec.section("models") { _ = model(name) }
        for (name, _) in spec.section("rag") { _ = rag(name) }
        for (name, v) in spec.section("evals") { eval(name, v) }
        for (name, v) in spec.section("exports") { export(name, v) }
        if let serve = spec.value["serve"] { self.serve(serve) }
        return nodes
    }

    /// Adds a node (once per id) and computes its key from its inputs' keys. Parameters
    /// and estimate are only evaluated when an earlier sweep variant's node cannot be reused.
    @discardableResult
    mutating func add(
        _ id: String, _ kind: NodeKind, params: @autoclosure () -> Value, inputs: [PlanInput] = [], files: [String] = [],
        at location: SourceLocation?, estimate: @autoclosure () -> Estimate = Estimate()
    ) -> String {
        if index[id] != nil { return id }
        let inputKeys = inputs.map { (key: nodes[index[$0.node]!].key, port: $0.port) }
        let fileDigests = files.map { digests.digest(spec.resolvePath($0)) }
        let signature = inputKeys.map { $0.key + ($0.port ?? "") } + fileDigests
        if let shared, !mayChange(id), let hit = shared.node(id, signature: signature) {
            index[id] = nodes.count
            nodes.append(hit)
            return id
        }
        let p = params()
        let key = ContentKey.compute(kind: kind, params: p, inputs: inputKeys, fileDigests: fileDigests)
        index[id] = nodes.count
        let node = PlanNode(
            id: id, kind: kind, params: p, inputs: inputs, files: files, key: key, location: location,
            estimate: estimate())
        nodes.append(node)
        shared?.store(node, signature: signature)
        return id
    }

    /// Whether the spec entry a node comes from may differ between sweep variants.
    /// Node ids start with the entry (`model.tuned.init` → `models`, `tuned`); tokenized
    /// data has no parameters of its own and depends only on its inputs.
    func mayChange(_ id: String) -> Bool {
        let parts = id.split(separator: ".", maxSplits: 2)
        guard let prefix = parts.first else { return true }
        let section: String
        switch prefix {
        case "tokens": return false
        case "serve": return spec.scope.mayChange(section: "serve", name: "")
        case "data": section = "data"
        case "tokenizer": section = "tokenizers"
        case "prompt": section = "prompts"
        case "model": section = "models"
        case "rag": section = "rag"
        case "eval": section = "evals"
        case "export": section = "exports"
        default: return true
        }
        return parts.count < 2 || spec.scope.mayChange(section: section, name: String(parts[1]))
    }

    func estimate(of id: String) -> Estimate { index[id].map { nodes[$0].estimate } ?? Estimate() }

    /// The sampled records behind an input (a split part's are its whole's).
    func sampledRecords(_ input: PlanInput) -> [[String: Any]]? {
        guard let i = index[input.node] else { return nil }
        return sampler.records(nodes[i], planned: { id in index[id].map { nodes[$0] } }, resolve: spec.resolvePath)
    }

    /// Token counts of an input's sampled records under a tokenizer node (through a prompt
    /// node first, as evals read their data). A tokenizer read from a file (its own, or a
    /// loaded model's) counts exactly; others count bytes.
    func lengths(_ data: PlanInput, tokenizer: String, prompt: String? = nil) -> TokenLengths? {
        // By content key: a sweep variant with the same nodes counts the same tokens.
        let memo = ([data.node, tokenizer] + (prompt.map { [$0] } ?? [])).map { id in index[id].map { nodes[$0].key } ?? id }
        if let known = sampler.lengths[memo] { return known }
        let counted = countedLengths(data, tokenizer: tokenizer, prompt: prompt)
        sampler.lengths[memo] = counted
        return counted
    }

    private func countedLengths(_ data: PlanInput, tokenizer: String, prompt: String?) -> TokenLengths? {
        guard var records = sampledRecords(data) else { return nil }
        if let prompt, let node = index[prompt].map({ nodes[$0] }), let p = try? PromptParameters(plan: node.params) {
            let pool = node.inputs.first.flatMap { sampledRecords($0) } ?? []
            records = records.map { ["prompt": DataSampler.render(p, $0, pool: pool), "response": RecordText.parts($0)?.answer ?? ""] }
        }
        let source = index[tokenizer].map { nodes[$0] }
        let file = source.flatMap { $0.kind == .tokenizerLoad || $0.kind == .modelLoad ? $0.files.first : nil }
        return sampler.lengths(records, tokenizerFile: file.map(spec.resolvePath))
    }

    /// Estimated records behind an input: a split part gets its fraction of the whole.
    func rows(of input: PlanInput) -> Int? {
        guard let rows = estimate(of: input.node).rows else { return nil }
        guard let part = input.port, let info = spec.datasets[Self.datasetName(input.node)],
            let fraction = info.value["split"]?[part]?.number
        else { return rows }
        return Int((Double(rows) * fraction).rounded(.down))
    }

    static func object(_ entries: [(String, Value?)]) -> Value {
        Value(.object(entries.compactMap { k, v in v.map { (k, $0) } }), at: nil)
    }

    static func int(_ i: Int) -> Value { Value(.int(i), at: nil) }
    static func string(_ s: String) -> Value { Value(.string(s), at: nil) }

    // MARK: data

    /// The dataset a `data.NAME` node id stands for.
    static func datasetName(_ node: String) -> String { String(node.dropFirst("data.".count)) }

    mutating func dataInput(_ refValue: Value?) -> PlanInput? {
        guard let s = refValue?.string else { return nil }
        let parts = s.split(separator: ".", maxSplits: 1).map(String.init)
        return PlanInput(node: dataset(parts[0]), port: parts.count > 1 ? parts[1] : nil)
    }

    mutating func dataset(_ name: String) -> String {
        let id = "data.\(name)"
        if index[id] != nil { return id }
        guard let info = spec.datasets[name] else { return id }
        let v = info.value
        // A file's layout (`alpaca`) is what its reader needs; the format it gives is the checker's.
        let format = Self.string(v["format"]?.string ?? info.format?.rawValue ?? "text")
        let seed = Self.int(spec.seed)
        var e = Estimate()
        if let g = v["generate"] {
            e.rows = v["count"]?.int
            var inputs: [PlanInput] = []
            if let docs = v["options"]?["documents"] { inputs += [dataInput(docs)?.as(.documents)].compactMap { $0 } }
            let options = v["options"].map { $0.removing(["documents"]) }
            return add(id, .dataGenerate, params: Self.object([
                ("generator", g), ("count", v["count"]), ("options", options), ("seed", seed),
            ]), inputs: inputs, at: v.location, estimate: e)
        }
        if let file = v["file"]?.string {
            e.rows = sampler.rows(ofFile: spec.resolvePath(file))
            // A queries file's judgements are its second file.
            return add(id, .dataLoad, params: Self.object([("format", format), ("fields", v["fields"])]),
                       files: [file] + [v["qrels"]?.string].compactMap { $0 }, at: v.location, estimate: e)
        }
        if let folder = v["folder"]?.string {
            return add(id, .dataFolder, params: Self.object([("format", format)]), files: [folder], at: v.location)
        }
        if let command = v["command"] {
            let files = command["inputs"]?.list?.compactMap(\.string) ?? []
            let needs = (command["needs"]?.list ?? []).compactMap { dataInput($0) }
            return add(id, .dataCommand, params: Self.object([
                ("run", command["run"]), ("shell", command["shell"]), ("output", command["output"]),
                ("params", command["params"]), ("format", format), ("fields", v["fields"]),
            ]), inputs: needs, files: files, at: v.location)
        }
        if let parts = v["mix"]?.list {
            let inputs = parts.compactMap { dataInput($0["from"]) }
            e.rows = v["count"]?.int
            return add(id, .dataMix, params: Self.object([
                ("weights", Value(.list(parts.compactMap { $0["weight"] }), at: nil)), ("count", v["count"]), ("seed", seed),
            ]), inputs: inputs, at: v.location, estimate: e)
        }
        guard let source = dataInput(v["from"]) else { return id }
        let sourceRows = rows(of: source)
        e.rows = sourceRows
        if let split = v["split"] {
            return add(id, .dataSplit, params: Self.object([("split", split), ("seed", seed)]), inputs: [source],
                       at: v.location, estimate: e)
        }
        if let filter = v["filter"] {
            e.rows = nil
            return add(id, .dataFilter, params: Self.object([("filter", filter)]), inputs: [source], at: v.location, estimate: e)
        }
        if let take = v["take"] {
            e.rows = sourceRows.map { min($0, take.int ?? $0) } ?? take.int
            return add(id, .dataTake, params: Self.object([("take", take)]), inputs: [source], at: v.location, estimate: e)
        }
        if let sample = v["sample"], let m = sample["model"]?.string {
            let modelID = model(m)
            var inputs = [source, PlanInput(node: modelID, role: .model)]
            let promptID = sample["prompt"]?.string.map { prompt($0) }
            if let promptID { inputs += promptInputs(promptID) }
            let answers = sourceRows.flatMap { rows in sample["n"]?.int.map { rows * $0 } }
            e = spec.models[m].flatMap { info in
                info.arch.map { arch in
                    Estimator.inference(info.dims, arch: arch, rows: answers,
                                        lengths: tokenizerNode[m].flatMap { lengths(source, tokenizer: $0, prompt: promptID) },
                                        maxTokens: sample["max_tokens"]?.int, scores: false, logits: false)
                }
            } ?? Estimate()
            e.rows = answers
            return add(id, .dataSample, params: Self.object([("sample", sample.removing(["model", "prompt"])), ("seed", seed)]),
                       inputs: inputs, at: v.location, estimate: e)
        }
        if let label = v["label"] {
            e.rows = nil  // one pair at most per prompt: how many, only the answers tell
            return add(id, .dataLabel, params: Self.object([("label", label)]), inputs: [source], at: v.location, estimate: e)
        }
        if let t = v["template"]?.string {
            let promptID = prompt(t)
            return add(id, .dataTemplate, params: Self.object([]), inputs: [source] + promptInputs(promptID), at: v.location, estimate: e)
        }
        return id
    }

    // MARK: tokenizers and prompts

    mutating func tokenizer(_ name: String) -> String {
        let id = "tokenizer.\(name)"
        if index[id] != nil { return id }
        guard let v = spec.tokenizers[name]?.value else { return id }
        let special = v["special"]
        if let train = v["train"] {
            let inputs = [dataInput(train["from"])].compactMap { $0 }
            return add(id, .tokenizerTrain, params: Self.object([
                ("vocab", train["vocab"]), ("min_frequency", train["min_frequency"]), ("special", special),
            ]), inputs: inputs, at: v.location)
        }
        if let path = v["load"]?.string {
            return add(id, .tokenizerLoad, params: Self.object([("special", special)]), files: [path], at: v.location)
        }
        return add(id, .tokenizerBytes, params: Self.object([("special", special)]), at: v.location)
    }

    /// Tokenized form of a dataset under a tokenizer, shared by every consumer, as an input in
    /// the role of `data`.
    mutating func tokens(_ data: PlanInput, tokenizer: String) -> PlanInput {
        let label = tokenizer.hasPrefix("tokenizer.") ? String(tokenizer.dropFirst(10)) : tokenizer
        let dataLabel = Self.datasetName(data.node) + (data.port.map { ".\($0)" } ?? "")
        let id = "tokens.\(dataLabel)@\(label)"
        var e = Estimate()
        e.rows = rows(of: data)
        e.lengths = lengths(data, tokenizer: tokenizer)
        add(id, .dataTokenize, params: Self.object([]), inputs: [data.as(.source), PlanInput(node: tokenizer, role: .tokenizer)],
            at: spec.datasets[Self.datasetName(data.node)]?.value.location, estimate: e)
        return PlanInput(node: id, role: data.role)
    }

    mutating func prompt(_ name: String) -> String {
        let id = "prompt.\(name)"
        if index[id] != nil { return id }
        guard let v = spec.value["prompts"]?[name] else { return id }
        var inputs: [PlanInput] = []
        var params = v
        if let fewShot = v["few_shot"] {
            inputs += [dataInput(fewShot["from"])].compactMap { $0 }
            // `closest` orders similar examples only.
            params = params.setting("few_shot", fewShot.removing(["from", "embed"] + (fewShot["select"]?.string == "similar" ? [] : ["closest"])))
            if let e = fewShot["embed"]?.string {
                shotEncoder[id] = model(e)
                inputs.append(PlanInput(node: model(e), role: .encoder))
            }
        }
        let seeded = params.setting("seed", Self.int(spec.seed))
        return add(id, .promptTemplate, params: seeded, inputs: inputs, at: v.location)
    }

    /// A node's inputs for rendering prompt `id`: the prompt, and the encoder its examples are
    /// chosen by, if any (`shot_encoder`).
    func promptInputs(_ id: String) -> [PlanInput] {
        [PlanInput(node: id, role: .prompt)] + (shotEncoder[id].map { [PlanInput(node: $0, role: .shotEncoder)] } ?? [])
    }
}

extension Value {
    /// The object without `keys`.
    func removing(_ keys: [String]) -> Value {
        guard let e = entries else { return self }
        return Value(.object(e.filter { !keys.contains($0.0) }), at: location)
    }
}

/// Nodes of earlier sweep variants by id and input signature (input keys, ports and
/// file digests); a node from an unchanged entry with the same signature is the same node.
final class PlanCache {
    private var nodes: [String: (signature: [String], node: PlanNode)] = [:]

    func node(_ id: String, signature: [String]) -> PlanNode? {
        guard let hit = nodes[id], hit.signature == signature else { return nil }
        return hit.node
    }

    func store(_ node: PlanNode, signature: [String]) {
        if nodes[node.id] == nil { nodes[node.id] = (signature, node) }
    }
}
