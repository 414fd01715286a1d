import Foundation
import TailorPlan
import TailorSpec

/// Runs a plan: nodes in dependency order, each looked up in the artifact cache by its
/// execution key and computed only when missing (or corrupt). The execution key hashes the
/// node's kind, version, parameters and file digests with the digests of the input artifacts
/// it reads — not the inputs' keys — so when a re-executed node reproduces its previous
/// output, everything downstream is found in the cache (early cutoff).
public final class Executor {
    public enum Status: String, Sendable { case ran, cached, recomputed }

    public struct Outcome: Sendable {
        public var node: PlanNode
        public var status: Status
        /// Why it ran: "new", "corrupt: …".
        public var reason: String?
        public var seconds: Double
        public var artifact: Artifact
        public var inputs: [(input: PlanInput, digest: String)]
    }

    /// A running node's progress: a line of text, and how far along it is when it knows.
    public struct Progress: Sendable {
        public var text: String
        public var done: Int?
        public var total: Int?
        /// Seconds since the node's work started (for a rate and an ETA).
        public var elapsed: Double?
    }

    public enum Event {
        case started(PlanNode, index: Int, total: Int)
        case progress(PlanNode, Progress)
        case finished(Outcome, index: Int, total: Int)
    }

    public let plan: Plan
    public let store: ArtifactStore
    let specDirectory: String
    let digests: FileDigests

    static let runners: [NodeKind: @Sendable (NodeContext) throws -> Void] = [
        .dataGenerate: DataRunners.generate, .dataSplit: DataRunners.split,
        .tokenizerTrain: TokenizerRunners.train, .dataTokenize: TokenizerRunners.tokenize,
        .modelInit: ModelRunners.initialise, .modelLoad: ModelRunners.load, .trainPretrain: TrainRunners.pretrain,
        .evalLM: EvalRunners.languageModel, .evalReport: EvalRunners.report,
        .dataLoad: DataFileRunners.load, .dataFolder: DataFileRunners.folder, .dataCommand: DataFileRunners.command,
        .dataFilter: DataFileRunners.filter, .dataTake: DataFileRunners.take, .dataMix: DataFileRunners.mix,
        .tokenizerBytes: TokenizerRunners.bytes, .tokenizerLoad: TokenizerRunners.loadFile,
        .promptTemplate: PromptRunners.template, .dataTemplate: PromptRunners.apply,
    ]

    /// `digests`: the ones the plan was made with (their memo lives in the cache).
    public init(plan: Plan, store: ArtifactStore, digests: FileDigests? = nil) {
        self.plan = plan
        self.store = store
        self.digests = digests ?? FileDigests(memo: store.root + "/index/file-digests.json")
        let dir = (plan.file as NSString).deletingLastPathComponent
        specDirectory = dir.isEmpty ? "." : dir
    }

    /// Nodes `run` cannot execute yet, each with why (a later issue implements them).
    public static func notExecutable(_ nodes: [PlanNode]) -> [(PlanNode, String)] {
        nodes.compactMap { node in
            guard Self.runners[node.kind] != nil else { return (node, "'\(node.kind.rawValue)' nodes are not yet executable") }
            if node.kind == .dataGenerate, let g = node.params["generator"]?.string, !Generators.implemented.contains(g) {
                return (node, "the '\(g)' generator is not yet executable")
            }
            if node.kind == .modelInit, let arch = node.params["arch"]?.string, arch == "bert" {
                return (node, "initialising a 'bert' model is not yet executable (gpt2 and llama are)")
            }
            return nil
        }
    }

    /// The nodes to run: all, or those named and everything they need.
    public static func selection(_ only: [String], in plan: Plan) throws -> [PlanNode] {
        guard !only.isEmpty else { return plan.nodes }
        var wanted = Set<String>()
        var stack = only
        while let id = stack.popLast() {
            guard let node = plan.node(id) else {
                throw ExecutionError("there is no node '\(id)' in the plan (see `tailor plan`)")
            }
            if wanted.insert(id).inserted { stack += node.inputs.map(\.node) }
        }
        return plan.nodes.filter { wanted.contains($0.id) }
    }

    /// Executes `nodes` (in plan order) and returns what happened to each. A node found in the
    /// cache is confirmed cheaply (record and file stamps); a node that runs first verifies every
    /// digest of the artifacts it reads, and rebuilds any that is damaged.
    public func run(_ nodes: [PlanNode], events: @escaping (Event) -> Void = { _ in }) throws -> [Outcome] {
        var done: [String: Artifact] = [:]
        var verified = Set<String>()
        var outcomes: [Outcome] = []
        var position: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            var inputs = try node.inputs.map { input -> (PlanInput, Artifact) in
                guard let a = done[input.node] else { throw ExecutionError("'\(node.id)' runs before its input '\(input.node)'") }
                return (input, a)
            }
            let start = Date()
            events(.started(node, index: index, total: nodes.count))
            var key = executionKey(node, inputs)
            var (artifact, problem) = store.check(key)
            var status = Status.cached
            if artifact == nil {
                for i in inputs.indices where !verified.contains(inputs[i].1.key) {
                    let (input, stored) = inputs[i]
                    if case (nil, let why) = store.lookup(stored.key), let source = plan.node(input.node) {
                        let rebuilt = try build(source, source.inputs.map { ($0, done[$0.node]!) }, key: stored.key, events: events)
                        done[input.node] = rebuilt
                        if let p = position[input.node] {
                            outcomes[p].status = .recomputed
                            outcomes[p].reason = why
                            outcomes[p].artifact = rebuilt
                        }
                        for j in inputs.indices where inputs[j].0.node == input.node { inputs[j].1 = rebuilt }
                    }
                    verified.insert(inputs[i].1.key)
                }
                key = executionKey(node, inputs)
                (artifact, problem) = store.check(key)
                if artifact == nil {
                    artifact = try build(node, inputs, key: key, events: events)
                    status = problem == "missing" ? .ran : .recomputed
                    verified.insert(key)
                }
            }
            let outcome = Outcome(node: node, status: status, reason: status == .cached ? nil : (problem == "missing" ? "new" : problem),
                                  seconds: Date().timeIntervalSince(start), artifact: artifact!,
                                  inputs: inputs.map { ($0.0, $0.1.digest(port: $0.0.port)) })
            done[node.id] = artifact!
            writeIndex(node, key: key, inputs: inputs)
            position[node.id] = outcomes.count
            outcomes.append(outcome)
            events(.finished(outcome, index: index, total: nodes.count))
        }
        return outcomes
    }

    /// Computes a node's artifact under its key's lock (another process may have built it
    /// meanwhile: then that one is used).
    func build(_ node: PlanNode, _ inputs: [(PlanInput, Artifact)], key: String, events: @escaping (Event) -> Void) throws -> Artifact {
        try store.withLock(key) {
            if case (let built?, _) = store.lookup(key) { return built }
            guard let runner = Self.runners[node.kind] else { throw ExecutionError("'\(node.id)': '\(node.kind.rawValue)' nodes are not yet executable") }
            let scratch = try store.scratch(key)
            let made = try store.store(key, kind: node.kind.rawValue) { folder in
                let ctx = NodeContext(node: node, inputs: inputs, output: folder, scratch: scratch, specDirectory: specDirectory,
                                      report: { events(.progress(node, $0)) })
                do {
                    try runner(ctx)
                } catch let error as ExecutionError {
                    throw ExecutionError("\(node.location.map { "\($0): " } ?? "")\(node.id): \(error.description)")
                }
            }
            try? FileManager.default.removeItem(atPath: scratch)
            return made
        }
    }

    /// SHA-256 over what determines the node's output: kind and version, canonical
    /// parameters, the user's files, and the digests of the exact input artifacts it reads.
    func executionKey(_ node: PlanNode, _ inputs: [(PlanInput, Artifact)]) -> String {
        var text = "tailor-exec/1\n\(node.kind.rawValue)@\(node.kind.version)\n\(node.params.canonicalJSON)"
        for file in node.files { text += "\nfile \(digests.digest(resolve(file)))" }
        for (input, artifact) in inputs { text += "\nin \(input.port ?? "-") \(artifact.digest(port: input.port))" }
        return String(Digest.of(text: text).dropFirst("sha256:".count))
    }
}
